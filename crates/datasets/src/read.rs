//! Streaming row readers: every format yields rows as JSON objects, one at a time.

use crate::ImportError;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use thinkscope_protocol::{Format, RowError};

/// One source row: where it was, and its columns.
pub(crate) struct RawRow {
    /// 1-based line (JSONL, CSV) or row (JSON array, Parquet).
    pub line: u64,
    pub columns: Map<String, Value>,
}

/// A row that failed to parse; the import decides whether that is fatal.
pub(crate) type RowResult = Result<RawRow, RowError>;

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// `Auto` resolved from the extension, then from the first bytes.
pub(crate) fn resolve_format(path: &Path, format: Format) -> Result<Format, ImportError> {
    if format != Format::Auto {
        return Ok(format);
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" => return Ok(Format::Jsonl),
        "csv" => return Ok(Format::Csv),
        "parquet" | "pq" => return Ok(Format::Parquet),
        _ => {}
    }
    let mut head = [0u8; 512];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| ImportError::Io { path: path.to_owned(), source: e })?;
    let head = &head[..n];
    if head.starts_with(b"PAR1") {
        return Ok(Format::Parquet);
    }
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Ok(Format::Json),
        Some(b'{') => Ok(Format::Jsonl),
        _ => Err(ImportError::UnknownFormat { path: path.to_owned() }),
    }
}

/// Counts bytes as they are read, for progress.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn open(path: &Path, read: &Arc<AtomicU64>) -> Result<BufReader<Counting<File>>, ImportError> {
    let file = File::open(path).map_err(|e| ImportError::Io { path: path.to_owned(), source: e })?;
    Ok(BufReader::with_capacity(1 << 20, Counting { inner: file, read: read.clone() }))
}

fn check_bom(path: &Path, reader: &mut impl BufRead) -> Result<(), ImportError> {
    let head = reader.fill_buf().map_err(|e| ImportError::Io { path: path.to_owned(), source: e })?;
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(ImportError::Encoding {
            path: path.to_owned(),
            message: "the file is UTF-16; save it as UTF-8 and import again".into(),
        });
    }
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    Ok(())
}

fn not_utf8(file: &str, line: u64, e: std::str::Utf8Error) -> RowError {
    RowError {
        file: file.to_string(),
        line,
        field: None,
        message: format!(
            "not valid UTF-8 at byte {} of the line (is the file Latin-1 or UTF-16? save it as UTF-8)",
            e.valid_up_to()
        ),
    }
}

fn object_or_error(file: &str, line: u64, value: Value) -> RowResult {
    match value {
        Value::Object(columns) => Ok(RawRow { line, columns }),
        other => Err(RowError {
            file: file.to_string(),
            line,
            field: None,
            message: format!("expected a JSON object, found {}", kind_of(&other)),
        }),
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Streams the rows of `path` to `each` until it breaks or the file ends.
/// `read` counts the bytes consumed so far.
pub(crate) fn read_rows(
    path: &Path,
    format: Format,
    read: &Arc<AtomicU64>,
    each: &mut dyn FnMut(RowResult) -> ControlFlow<()>,
) -> Result<(), ImportError> {
    match resolve_format(path, format)? {
        Format::Jsonl | Format::Auto => read_jsonl(path, read, each),
        Format::Json => read_json_array(path, read, each),
        Format::Csv => read_csv(path, read, each),
        Format::Parquet => read_parquet(path, read, each),
    }
}

fn read_jsonl(path: &Path, read: &Arc<AtomicU64>, each: &mut dyn FnMut(RowResult) -> ControlFlow<()>) -> Result<(), ImportError> {
    let file = file_name(path);
    let mut reader = open(path, read)?;
    check_bom(path, &mut reader)?;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf).map_err(|e| ImportError::Io { path: path.to_owned(), source: e })?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let row = match std::str::from_utf8(&buf) {
            Err(e) => Err(not_utf8(&file, line, e)),
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => serde_json::from_str::<Value>(text)
                .map_err(|e| RowError { file: file.clone(), line, field: None, message: format!("invalid JSON: {e}") })
                .and_then(|v| object_or_error(&file, line, v)),
        };
        if each(row).is_break() {
            return Ok(());
        }
    }
}

/// Visits the elements of a top-level JSON array one at a time.
struct ArrayRows<'a> {
    file: &'a str,
    each: &'a mut dyn FnMut(RowResult) -> ControlFlow<()>,
}

impl<'de> DeserializeSeed<'de> for ArrayRows<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArrayRows<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut row = 0u64;
        while let Some(value) = seq.next_element::<Value>()? {
            row += 1;
            if (self.each)(object_or_error(self.file, row, value)).is_break() {
                // Stop early: drain nothing more; the caller ignores the trailing error.
                return Err(serde::de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}

const STOPPED: &str = "thinkscope: stopped early";

fn read_json_array(path: &Path, read: &Arc<AtomicU64>, each: &mut dyn FnMut(RowResult) -> ControlFlow<()>) -> Result<(), ImportError> {
    let file = file_name(path);
    let mut reader = open(path, read)?;
    check_bom(path, &mut reader)?;
    let mut de = serde_json::Deserializer::from_reader(reader);
    match (ArrayRows { file: &file, each }).deserialize(&mut de) {
        Ok(()) => de.end().map_err(|e| ImportError::Malformed { path: path.to_owned(), message: format!("after the array: {e}") }),
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(()),
        Err(e) => Err(ImportError::Malformed {
            path: path.to_owned(),
            message: format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column()),
        }),
    }
}

fn read_csv(path: &Path, read: &Arc<AtomicU64>, each: &mut dyn FnMut(RowResult) -> ControlFlow<()>) -> Result<(), ImportError> {
    let file = file_name(path);
    let mut reader = open(path, read)?;
    check_bom(path, &mut reader)?;
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
    let headers = match csv.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(ImportError::Malformed { path: path.to_owned(), message: format!("header: {e}") }),
    };
    let headers: Vec<String> = match headers.iter().map(std::str::from_utf8).collect::<Result<Vec<_>, _>>() {
        Ok(h) => h.into_iter().map(str::to_string).collect(),
        Err(e) => return Err(ImportError::Encoding { path: path.to_owned(), message: not_utf8(&file, 1, e).message }),
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let row = match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let mut columns = Map::new();
                let mut bad = None;
                for (name, cell) in headers.iter().zip(record.iter()) {
                    match std::str::from_utf8(cell) {
                        Ok(text) => {
                            columns.insert(name.clone(), Value::String(text.to_string()));
                        }
                        Err(e) => {
                            let mut err = not_utf8(&file, line, e);
                            err.field = Some(name.clone());
                            err.message = err.message.replace("of the line", "of the field");
                            bad = Some(err);
                            break;
                        }
                    }
                }
                bad.map_or(Ok(RawRow { line, columns }), Err)
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(ImportError::Malformed { path: path.to_owned(), message: e.to_string() });
                }
                Err(RowError { file: file.clone(), line, field: None, message: e.to_string() })
            }
        };
        if each(row).is_break() {
            return Ok(());
        }
    }
}

fn read_parquet(path: &Path, read: &Arc<AtomicU64>, each: &mut dyn FnMut(RowResult) -> ControlFlow<()>) -> Result<(), ImportError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let malformed = |e: &dyn std::fmt::Display| ImportError::Malformed {
        path: path.to_owned(),
        message: format!("not a readable Parquet file (truncated or damaged?): {e}"),
    };
    let file = File::open(path).map_err(|e| ImportError::Io { path: path.to_owned(), source: e })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| malformed(&e))?;
    let total_rows = builder.metadata().file_metadata().num_rows().max(1) as u64;
    let batches = builder.with_batch_size(512).build().map_err(|e| malformed(&e))?;
    let mut row = 0u64;
    for batch in batches {
        let batch = batch.map_err(|e| malformed(&e))?;
        for r in 0..batch.num_rows() {
            row += 1;
            let columns = batch_row(&batch, r).map_err(|e| malformed(&e))?;
            if each(Ok(RawRow { line: row, columns })).is_break() {
                return Ok(());
            }
        }
        // Parquet decodes whole column chunks; report progress in proportion to rows.
        read.store(size * row / total_rows, Ordering::Relaxed);
    }
    Ok(())
}

fn batch_row(batch: &RecordBatch, row: usize) -> Result<Map<String, Value>, arrow_schema::ArrowError> {
    let mut out = Map::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        out.insert(field.name().clone(), cell(column.as_ref(), row)?);
    }
    Ok(out)
}

/// One arrow cell as JSON: strings, numbers, booleans and (nested) lists natively,
/// anything else as its display text.
fn cell(array: &dyn Array, row: usize) -> Result<Value, arrow_schema::ArrowError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float32 => array.as_primitive::<Float32Type>().value(row).into(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).into(),
        DataType::List(_) => list(array.as_list::<i32>().value(row).as_ref())?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(row).as_ref())?,
        _ => {
            let options = arrow_cast::display::FormatOptions::default();
            let fmt = arrow_cast::display::ArrayFormatter::try_new(array, &options)?;
            Value::String(fmt.value(row).to_string())
        }
    })
}

fn list(values: &dyn Array) -> Result<Value, arrow_schema::ArrowError> {
    (0..values.len()).map(|i| cell(values, i)).collect::<Result<Vec<_>, _>>().map(Value::Array)
}
