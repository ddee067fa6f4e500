//! One import: hash, detect, stream rows through a reader thread into one transaction.

use crate::read::{self, file_name, RawRow};
use crate::schema::{self, KnownSchema};
use crate::ImportError;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thinkscope_protocol::{
    CanonicalField, FieldMapping, Format, ImportPreview, ImportProgress, ImportReport, ImportRequest, RowError,
};
use thinkscope_store::{ImportStart, NewDataset, NewSample, Store};
pub use thinkscope_protocol::cancel::CancelToken;

const PREVIEW_ROWS: usize = 5;
const PREVIEW_CELL: usize = 200;
/// Rows inspected to learn the column set of schemaless formats (JSON rows may differ).
const COLUMN_SCAN_ROWS: usize = 20;

/// Columns, first rows and the mapping an import would use.
pub fn preview(path: &Path, format: Format) -> Result<ImportPreview, ImportError> {
    check_not_empty(path)?;
    let format = read::resolve_format(path, format)?;
    let mut rows = Vec::new();
    let mut first_error = None;
    read::read_rows(path, format, &Arc::default(), &mut |row| {
        match row {
            Ok(r) => rows.push(r),
            Err(e) => first_error = first_error.take().or(Some(e)),
        }
        if rows.len() >= COLUMN_SCAN_ROWS { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    if rows.is_empty() {
        return match first_error {
            Some(e) => Err(ImportError::BadRow(e)),
            None => Err(ImportError::Empty { path: path.to_owned() }),
        };
    }
    let columns = column_names(&rows);
    let detected = schema::detect(&columns);
    let mapping = detected.map_or_else(|| schema::suggest_mapping(&columns), |s| schema::schema_mapping(s, &columns));
    let cells = rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|r| {
            columns
                .iter()
                .map(|c| {
                    let v = r.columns.get(c).cloned().unwrap_or_default();
                    let t = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    truncate(&t, PREVIEW_CELL)
                })
                .collect()
        })
        .collect();
    Ok(ImportPreview { format, columns, rows: cells, detected_schema: detected.map(|s| s.name.to_string()), mapping })
}

fn truncate(t: &str, max: usize) -> String {
    match t.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// Column names in first-seen order over the first rows.
fn column_names(rows: &[RawRow]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        for k in r.columns.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

fn check_not_empty(path: &Path) -> Result<u64, ImportError> {
    let size = std::fs::metadata(path).map_err(|e| ImportError::Io { path: path.to_owned(), source: e })?.len();
    if size == 0 {
        return Err(ImportError::Empty { path: path.to_owned() });
    }
    Ok(size)
}

fn sha256_file(path: &Path) -> Result<String, ImportError> {
    let io = |e| ImportError::Io { path: path.to_owned(), source: e };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// The layout and mapping to import with: the user's mapping when given, else a
/// detected layout; an unknown layout without a mapping is an error that suggests one.
fn plan(path: &Path, req: &ImportRequest, columns: &[String]) -> Result<(Option<&'static KnownSchema>, Vec<FieldMapping>), ImportError> {
    let detected = schema::detect(columns);
    let (schema, mapping) = if !req.mapping.is_empty() {
        // A user mapping over a known layout keeps the layout's fixed values and extra steps.
        (detected.filter(|s| schema::schema_mapping(s, columns) == req.mapping), req.mapping.clone())
    } else if let Some(s) = detected {
        (Some(s), schema::schema_mapping(s, columns))
    } else {
        let suggestion = schema::suggest_mapping(columns);
        let flags = if suggestion.iter().any(|m| m.field == CanonicalField::Question) {
            suggestion.iter().map(|m| format!("--map {}={}", m.field.as_str(), m.column)).collect::<Vec<_>>().join(" ")
        } else {
            "--map question=COLUMN".to_string()
        };
        return Err(ImportError::UnknownSchema { path: path.to_owned(), columns: columns.join(", "), suggestion: flags });
    };
    for m in &mapping {
        if !columns.contains(&m.column) {
            return Err(ImportError::MissingColumn {
                path: path.to_owned(),
                field: m.field.as_str().into(),
                column: m.column.clone(),
                columns: columns.join(", "),
            });
        }
    }
    if !mapping.iter().any(|m| m.field == CanonicalField::Question) {
        return Err(ImportError::MissingColumn {
            path: path.to_owned(),
            field: "question".into(),
            column: "(none mapped)".into(),
            columns: columns.join(", "),
        });
    }
    Ok((schema, mapping))
}

enum Item {
    Sample(Box<NewSample>),
    Bad(RowError),
}

/// Imports `req.path` into `store` in one transaction. `progress` is called a few times
/// a second; `cancel` stops the import and rolls it back.
pub async fn import(
    store: &Store,
    req: &ImportRequest,
    mut progress: impl FnMut(&ImportProgress) + Send,
    cancel: &CancelToken,
) -> Result<ImportReport, ImportError> {
    let path = PathBuf::from(&req.path);
    if store.is_read_only() {
        return Err(thinkscope_store::StoreError::ReadOnly { path: store.path().to_owned() }.into());
    }
    let size = check_not_empty(&path)?;
    let format = read::resolve_format(&path, req.format)?;
    let preview = {
        let p = path.clone();
        tokio::task::spawn_blocking(move || preview(&p, format)).await.expect("preview task")?
    };
    let (schema, mapping) = plan(&path, req, &preview.columns)?;
    let content_hash = {
        let p = path.clone();
        tokio::task::spawn_blocking(move || sha256_file(&p)).await.expect("hash task")?
    };
    let file = file_name(&path);
    let dataset = NewDataset {
        name: req.name.clone().unwrap_or_else(|| {
            path.file_stem().map_or_else(|| file.clone(), |s| s.to_string_lossy().into_owned())
        }),
        source_file: file.clone(),
        format: format.as_str().to_string(),
        schema: schema.map_or("custom", |s| s.name).to_string(),
        content_hash,
        size_bytes: size,
        mapping_json: serde_json::to_string(&mapping).expect("mapping serialises"),
    };
    let mut tx = match store.begin_import(dataset).await? {
        ImportStart::AlreadyImported(dataset) => {
            return Ok(ImportReport { dataset, already_present: true, skipped: Vec::new() })
        }
        ImportStart::Fresh(tx) => tx,
    };

    // Parsing runs on a blocking thread while this task writes: two cores, two stages.
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Item>(256);
    let reader = {
        let (path, bytes_read, cancel, file) = (path.clone(), bytes_read.clone(), cancel.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            read::read_rows(&path, format, &bytes_read, &mut |row| {
                let item = match row {
                    Ok(r) => match schema::to_sample(r.columns, &mapping, schema) {
                        Ok(s) => Item::Sample(Box::new(s)),
                        Err(e) => Item::Bad(schema::row_error(&file, r.line, e)),
                    },
                    Err(e) => Item::Bad(e),
                };
                if cancel.is_cancelled() || sender.blocking_send(item).is_err() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
        })
    };

    let started = Instant::now();
    let mut last_report = started;
    let mut skipped = Vec::new();
    let report = |rows: u64| {
        let elapsed = started.elapsed().as_secs_f64();
        let done = bytes_read.load(Ordering::Relaxed).min(size);
        let eta = (done > 0 && elapsed > 0.2).then(|| elapsed * (size - done) as f64 / done as f64);
        ImportProgress { rows, bytes_read: done, bytes_total: size, elapsed_secs: elapsed, eta_secs: eta }
    };
    let mut failure = None;
    while let Some(item) = receiver.recv().await {
        if cancel.is_cancelled() {
            failure = Some(ImportError::Cancelled { path: path.clone() });
            break;
        }
        match item {
            Item::Sample(s) => {
                if let Err(e) = tx.insert(*s).await {
                    failure = Some(e.into());
                    break;
                }
            }
            Item::Bad(e) if req.skip_bad_rows => skipped.push(e),
            Item::Bad(e) => {
                failure = Some(ImportError::BadRow(e));
                break;
            }
        }
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            progress(&report(tx.rows()));
        }
    }
    drop(receiver);
    let read_result = reader.await.expect("reader task");
    if failure.is_none() && cancel.is_cancelled() {
        failure = Some(ImportError::Cancelled { path: path.clone() });
    }
    if let Some(err) = failure.or(read_result.err()) {
        tx.rollback().await?;
        return Err(err);
    }
    if tx.rows() == 0 {
        tx.rollback().await?;
        return Err(match skipped.into_iter().next() {
            Some(first) => ImportError::NoGoodRows { path, first },
            None => ImportError::Empty { path },
        });
    }
    progress(&ImportProgress { eta_secs: Some(0.0), ..report(tx.rows()) });
    let dataset = tx.commit().await?;
    Ok(ImportReport { dataset, already_present: false, skipped })
}
