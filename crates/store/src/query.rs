//! Reading: datasets, sample pages, facets and sample detail.

use crate::search::{self, Term};
use crate::{Store, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use thinkscope_protocol::{
    DatasetInfo, FacetCount, Facets, SampleDetail, SampleFilter, SamplePage, SampleQuery, SampleRow, SampleSort,
    TokenCount, Trace, TraceKind,
};

pub(crate) const DATASET_COLUMNS: &str =
    "id, name, source_file, format, schema, content_hash, size_bytes, rows, indexed_rows, imported_at";
const ROW_COLUMNS: &str = "s.id, s.dataset_id, s.row_index, s.external_id, s.question, s.answer, s.domain, \
     s.subject, s.source, s.level, s.choices, s.has_trace, s.thinking_tokens, s.solution";
const SNIPPET_WIDTH: usize = 240;

pub(crate) fn dataset_from_row(r: &SqliteRow) -> DatasetInfo {
    DatasetInfo {
        id: r.get("id"),
        name: r.get("name"),
        source_file: r.get("source_file"),
        format: r.get("format"),
        schema: r.get("schema"),
        content_hash: r.get("content_hash"),
        size_bytes: r.get::<i64, _>("size_bytes") as u64,
        rows: r.get::<i64, _>("rows") as u64,
        indexed_rows: r.get::<i64, _>("indexed_rows") as u64,
        imported_at: r.get("imported_at"),
    }
}

fn sample_from_row(r: &SqliteRow) -> Result<SampleRow, StoreError> {
    let id: String = r.get("id");
    let choices = r
        .get::<Option<String>, _>("choices")
        .map(|c| serde_json::from_str(&c))
        .transpose()
        .map_err(|e| StoreError::Corrupt { sample: id.clone(), field: "choices", detail: e.to_string() })?;
    Ok(SampleRow {
        id,
        dataset_id: r.get("dataset_id"),
        row_index: r.get::<i64, _>("row_index") as u64,
        external_id: r.get("external_id"),
        question: r.get("question"),
        answer: r.get("answer"),
        domain: r.get("domain"),
        subject: r.get("subject"),
        source: r.get("source"),
        level: r.get("level"),
        choices,
        has_trace: r.get("has_trace"),
        thinking_tokens: r.get::<Option<i64>, _>("thinking_tokens").map(|v| v as u64),
        snippet: None,
    })
}

#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// FROM + WHERE of a sample query, with its bind values in order.
///
/// A search starts from the full-text index (`f`), limited to the dataset's rowid range,
/// and joins the matching samples (`s`); FTS5 yields rowids in order, so a page in file
/// order stops after `limit` matches instead of collecting them all.
struct Selection {
    search: bool,
    /// Conditions on `f` (or on `s.rowid` without a search).
    index_conditions: Vec<(String, Bind)>,
    /// Conditions on other columns of `s`.
    sample_conditions: Vec<(String, Bind)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Facet {
    Domain,
    Subject,
    Source,
    Level,
    HasTrace,
}

/// The facets in the order `Facets` lists them.
const FACETS: [Facet; 5] = [Facet::Domain, Facet::Subject, Facet::Source, Facet::Level, Facet::HasTrace];

impl Facet {
    /// The value the query requires of this facet's column, if it filters on it.
    fn filter(self, f: &SampleFilter) -> Option<Bind> {
        let text = |v: &Option<String>| v.clone().map(Bind::Text);
        match self {
            Facet::Domain => text(&f.domain),
            Facet::Subject => text(&f.subject),
            Facet::Source => text(&f.source),
            Facet::Level => text(&f.level),
            Facet::HasTrace => f.has_trace.map(|h| Bind::Int(h as i64)),
        }
    }

    fn column(self) -> &'static str {
        match self {
            Facet::Domain => "s.domain",
            Facet::Subject => "s.subject",
            Facet::Source => "s.source",
            Facet::Level => "s.level",
            Facet::HasTrace => "s.has_trace",
        }
    }
}

impl Selection {
    /// `range`: the dataset's rowids, when the query names a dataset that has them.
    /// `except`: leave that facet's own filter out, so its counts show the alternatives.
    fn new(q: &SampleQuery, terms: &[Term], range: Option<(i64, i64)>, except: Option<Facet>) -> Selection {
        let mut sel = Selection { search: !terms.is_empty(), index_conditions: Vec::new(), sample_conditions: Vec::new() };
        let rowid = if sel.search {
            sel.index_conditions.push(("samples_fts MATCH ?".into(), Bind::Text(search::fts_query(terms))));
            "f.rowid"
        } else {
            "s.rowid"
        };
        match (range, &q.dataset_id) {
            (Some((lo, hi)), _) => {
                sel.index_conditions.push((format!("{rowid} >= ?"), Bind::Int(lo)));
                sel.index_conditions.push((format!("{rowid} <= ?"), Bind::Int(hi)));
            }
            (None, Some(ds)) => sel.sample_conditions.push(("s.dataset_id = ?".into(), Bind::Text(ds.clone()))),
            (None, None) => {}
        }
        for facet in FACETS.into_iter().filter(|f| except != Some(*f)) {
            if let Some(value) = facet.filter(&q.filter) {
                sel.sample_conditions.push((format!("{} = ?", facet.column()), value));
            }
        }
        let SampleFilter { min_thinking_tokens, max_thinking_tokens, .. } = &q.filter;
        if let Some(min) = min_thinking_tokens {
            sel.sample_conditions.push(("s.thinking_tokens >= ?".into(), Bind::Int(*min as i64)));
        }
        if let Some(max) = max_thinking_tokens {
            sel.sample_conditions.push(("s.thinking_tokens <= ?".into(), Bind::Int(*max as i64)));
        }
        sel
    }

    /// Whether the rows are exactly the dataset's rowid range (no search, no filter).
    fn is_plain_range(&self) -> bool {
        !self.search && self.sample_conditions.is_empty() && !self.index_conditions.is_empty()
    }

    /// `SELECT select FROM … WHERE … tail` with its binds.
    fn query(&self, select: &str, tail: &str) -> SqliteQuery {
        let from = if self.search {
            // CROSS JOIN keeps the index as the outer loop.
            "samples_fts f CROSS JOIN samples s ON s.rowid = f.rowid"
        } else {
            "samples s"
        };
        build(select, from, self.index_conditions.iter().chain(&self.sample_conditions), tail)
    }

    /// COUNT(*) of the rows: a search without other filters never touches `samples`.
    fn count_query(&self) -> SqliteQuery {
        if self.search && self.sample_conditions.is_empty() {
            build("COUNT(*)", "samples_fts f", self.index_conditions.iter(), "")
        } else {
            self.query("COUNT(*)", "")
        }
    }
}

type SqliteQuery = sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

fn build<'a>(select: &str, from: &str, conditions: impl Iterator<Item = &'a (String, Bind)>, tail: &str) -> SqliteQuery {
    let (sql_parts, binds): (Vec<&str>, Vec<&Bind>) = conditions.map(|(c, b)| (c.as_str(), b)).unzip();
    let mut sql = format!("SELECT {select} FROM {from}");
    if !sql_parts.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&sql_parts.join(" AND "));
    }
    sql.push(' ');
    sql.push_str(tail);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        query = match b {
            Bind::Text(t) => query.bind(t.clone()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

fn search_terms(q: &SampleQuery) -> Vec<Term> {
    q.search.as_deref().map(search::parse_terms).unwrap_or_default()
}

fn bad_search(q: &SampleQuery, e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.message().contains("fts5") => StoreError::BadSearch {
            query: q.search.clone().unwrap_or_default(),
            detail: db.message().to_string(),
        },
        _ => StoreError::Sql(e),
    }
}

impl Store {
    pub async fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {DATASET_COLUMNS} FROM datasets ORDER BY imported_at, name")))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(dataset_from_row).collect())
    }

    pub(crate) async fn dataset_by_id(&self, id: &str) -> Result<Option<DatasetInfo>, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {DATASET_COLUMNS} FROM datasets WHERE id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(dataset_from_row))
    }

    /// A dataset by id, id prefix (as printed by `datasets`), or exact name; when several
    /// match, an exact id, else the latest import.
    pub async fn find_dataset(&self, id_or_name: &str) -> Result<DatasetInfo, StoreError> {
        let found = self.matching_datasets(id_or_name).await?;
        found.into_iter().next().ok_or_else(|| StoreError::UnknownDataset(id_or_name.to_string()))
    }

    /// Every dataset `id_or_name` could mean, in `find_dataset`'s order of preference.
    pub async fn matching_datasets(&self, id_or_name: &str) -> Result<Vec<DatasetInfo>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {DATASET_COLUMNS} FROM datasets WHERE id = ?1 OR name = ?1 OR (length(?1) >= 6 AND id LIKE ?1 || '%') \
             ORDER BY id = ?1 DESC, imported_at DESC"
        )))
        .bind(id_or_name)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(dataset_from_row).collect())
    }

    /// First and last rowid of a dataset's samples (None for an unknown or empty dataset).
    async fn rowid_range(&self, q: &SampleQuery) -> Result<Option<(i64, i64)>, StoreError> {
        let Some(id) = &q.dataset_id else { return Ok(None) };
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT first_rowid, last_rowid FROM datasets WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((Some(lo), Some(hi))) => Some((lo, hi)),
            _ => None,
        })
    }

    /// One page of samples matching the query, with search snippets.
    pub async fn samples(&self, q: &SampleQuery) -> Result<SamplePage, StoreError> {
        let terms = search_terms(q);
        let range = self.rowid_range(q).await?;
        let sel = Selection::new(q, &terms, range, None);
        match range {
            Some((lo, hi)) if sel.is_plain_range() => {
                // Rowids are consecutive: the count is known, and in file order a page
                // starts at a rowid instead of skipping `offset` rows.
                let total = (hi - lo + 1) as u64;
                let rows = if q.sort == SampleSort::Default {
                    let from = Selection::new(q, &terms, Some((lo + q.offset as i64, hi)), None);
                    self.page(q, &from, &terms, 0).await?
                } else {
                    self.page(q, &sel, &terms, q.offset).await?
                };
                Ok(SamplePage { total, rows })
            }
            _ => {
                // The count and the page run on two connections at once: for a common
                // word the count reads the whole posting list, the page stops early.
                let count = async {
                    let row = sel.count_query().fetch_one(&self.pool).await.map_err(|e| bad_search(q, e))?;
                    Ok::<_, StoreError>(row.get::<i64, _>(0) as u64)
                };
                let (total, rows) = tokio::try_join!(count, self.page(q, &sel, &terms, q.offset))?;
                Ok(SamplePage { total, rows })
            }
        }
    }

    /// The rows of one page, with search snippets.
    async fn page(&self, q: &SampleQuery, sel: &Selection, terms: &[Term], offset: u64) -> Result<Vec<SampleRow>, StoreError> {
        let order = match q.sort {
            SampleSort::LengthAsc => "ORDER BY s.thinking_tokens IS NULL, s.thinking_tokens, s.length_chars, s.rowid",
            SampleSort::LengthDesc => "ORDER BY s.thinking_tokens IS NULL, s.thinking_tokens DESC, s.length_chars DESC, s.rowid",
            SampleSort::Default if sel.search => "ORDER BY f.rowid",
            SampleSort::Default => "ORDER BY s.rowid",
        };
        let tail = format!("{order} LIMIT {} OFFSET {offset}", q.limit);
        let rows = sel.query(ROW_COLUMNS, &tail).fetch_all(&self.pool).await.map_err(|e| bad_search(q, e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut sample = sample_from_row(r)?;
            if !terms.is_empty() {
                sample.snippet = search::snippet(&sample.question, terms, SNIPPET_WIDTH)
                    .or_else(|| search::snippet(r.get::<Option<&str>, _>("solution").unwrap_or(""), terms, SNIPPET_WIDTH));
            }
            out.push(sample);
        }
        if !terms.is_empty() {
            self.trace_snippets(&mut out, terms).await?;
        }
        Ok(out)
    }

    /// Snippets from the traces for the rows whose question and solution did not match,
    /// in one query for the page.
    async fn trace_snippets(&self, rows: &mut [SampleRow], terms: &[Term]) -> Result<(), StoreError> {
        let missing: Vec<&str> = rows.iter().filter(|r| r.snippet.is_none()).map(|r| r.id.as_str()).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "SELECT sample_id, text FROM traces WHERE sample_id IN ({}) ORDER BY sample_id, position",
            vec!["?"; missing.len()].join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in &missing {
            query = query.bind(id.to_string());
        }
        let mut found: BTreeMap<String, thinkscope_protocol::Highlighted> = BTreeMap::new();
        for t in query.fetch_all(&self.pool).await? {
            // The first trace with a match gives the snippet.
            if let std::collections::btree_map::Entry::Vacant(slot) = found.entry(t.get("sample_id")) {
                if let Some(snippet) = search::snippet(t.get::<&str, _>("text"), terms, SNIPPET_WIDTH) {
                    slot.insert(snippet);
                }
            }
        }
        for r in rows.iter_mut().filter(|r| r.snippet.is_none()) {
            r.snippet = found.remove(&r.id);
        }
        Ok(())
    }

    /// Counts per facet value among the rows the query matches. Each facet ignores its
    /// own filter, so the user sees what else they could pick.
    pub async fn facets(&self, q: &SampleQuery) -> Result<Facets, StoreError> {
        let terms = search_terms(q);
        let range = self.rowid_range(q).await?;
        // One pass over the matching rows, grouped by every facet column at once: each
        // facet without a filter of its own counts from it (a search over a common word
        // joins every match once, not once per facet).
        let all = Selection::new(q, &terms, range, None);
        let columns = FACETS.iter().map(|f| format!("CAST({} AS TEXT)", f.column())).collect::<Vec<_>>().join(", ");
        let groups = all
            .query(
                &format!("{columns}, COUNT(*), MIN(s.thinking_tokens), MAX(s.thinking_tokens)"),
                &format!("GROUP BY {}", (1..=FACETS.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")),
            )
            .fetch_all(&self.pool)
            .await
            .map_err(|e| bad_search(q, e))?;
        let n = FACETS.len();
        let mut counts: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); n];
        let mut tokens: Option<[u64; 2]> = None;
        for g in &groups {
            let count = g.get::<i64, _>(n) as u64;
            for (i, facet) in counts.iter_mut().enumerate() {
                // Rows without a value form no choice to offer.
                if let Some(value) = g.get::<Option<String>, _>(i) {
                    *facet.entry(value).or_default() += count;
                }
            }
            if let (Some(lo), Some(hi)) = (g.get::<Option<i64>, _>(n + 1), g.get::<Option<i64>, _>(n + 2)) {
                let [a, b] = tokens.get_or_insert([lo as u64, hi as u64]);
                *a = (*a).min(lo as u64);
                *b = (*b).max(hi as u64);
            }
        }
        // A facet with a filter set counts without that filter, so it shows the
        // alternatives: a query of its own.
        let mut lists = Vec::with_capacity(n);
        for (facet, from_groups) in FACETS.into_iter().zip(counts) {
            let list = if facet.filter(&q.filter).is_some() {
                self.facet_counts(q, &terms, range, facet).await?
            } else {
                let mut list: Vec<FacetCount> =
                    from_groups.into_iter().map(|(value, count)| FacetCount { value, count }).collect();
                list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                list
            };
            lists.push(list);
        }
        let [domain, subject, source, level, mut has_trace]: [Vec<FacetCount>; 5] =
            lists.try_into().expect("one list per facet");
        for f in &mut has_trace {
            f.value = if f.value == "1" { "true".into() } else { "false".into() };
        }
        Ok(Facets { domain, subject, source, level, has_trace, thinking_tokens_range: tokens })
    }

    /// Counts of one facet's values under the query without that facet's own filter,
    /// most frequent first.
    async fn facet_counts(
        &self,
        q: &SampleQuery,
        terms: &[Term],
        range: Option<(i64, i64)>,
        facet: Facet,
    ) -> Result<Vec<FacetCount>, StoreError> {
        let col = facet.column();
        let rows = Selection::new(q, terms, range, Some(facet))
            .query(&format!("CAST({col} AS TEXT) AS value, COUNT(*) AS n"), &format!("GROUP BY {col} ORDER BY n DESC, value"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| bad_search(q, e))?;
        Ok(rows
            .iter()
            .filter_map(|r| Some(FacetCount { value: r.get::<Option<String>, _>("value")?, count: r.get::<i64, _>("n") as u64 }))
            .collect())
    }

    /// The full id of the one sample whose id starts with `prefix` (at least 8 characters).
    async fn resolve_sample_id(&self, prefix: &str) -> Result<String, StoreError> {
        if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::UnknownSample(prefix.to_string()));
        }
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM samples WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2")
            .bind(prefix.to_ascii_lowercase())
            .fetch_all(&self.pool)
            .await?;
        match ids.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(StoreError::UnknownSample(prefix.to_string())),
            _ => Err(StoreError::AmbiguousSample(prefix.to_string())),
        }
    }

    /// Everything about one sample, by id or unique id prefix.
    pub async fn sample(&self, id_or_prefix: &str) -> Result<SampleDetail, StoreError> {
        let resolved = self.resolve_sample_id(id_or_prefix).await?;
        let id = resolved.as_str();
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROW_COLUMNS}, s.correct_choice, s.tests, s.entry_point, s.grades, s.original, s.original_refs, \
                 d.name AS dataset_name \
             FROM samples s JOIN datasets d ON d.id = s.dataset_id WHERE s.id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::UnknownSample(id.to_string()))?;
        let row = sample_from_row(&r)?;
        let corrupt = |field: &'static str| {
            let sample = id.to_string();
            move |e: serde_json::Error| StoreError::Corrupt { sample, field, detail: e.to_string() }
        };
        let grades: BTreeMap<String, String> = r
            .get::<Option<String>, _>("grades")
            .map(|g| serde_json::from_str(&g))
            .transpose()
            .map_err(corrupt("grades"))?
            .unwrap_or_default();
        let mut original = serde_json::from_str(r.get::<&str, _>("original")).map_err(corrupt("original"))?;
        let refs: Option<BTreeMap<String, String>> = r
            .get::<Option<String>, _>("original_refs")
            .map(|refs| serde_json::from_str(&refs))
            .transpose()
            .map_err(corrupt("original_refs"))?;

        let counts = sqlx::query(
            "SELECT c.field, t.name, c.tokens FROM token_counts c JOIN tokenizers t ON t.id = c.tokenizer_id \
             WHERE c.sample_id = ? ORDER BY t.counted_at DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut token_counts: BTreeMap<String, Vec<TokenCount>> = BTreeMap::new();
        for c in &counts {
            token_counts
                .entry(c.get("field"))
                .or_default()
                .push(TokenCount { tokenizer: c.get("name"), tokens: c.get::<i64, _>("tokens") as u64 });
        }
        let traces = sqlx::query("SELECT position, kind, label, text FROM traces WHERE sample_id = ? ORDER BY position")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|t| Trace {
                kind: if t.get::<&str, _>("kind") == "attempt" { TraceKind::Attempt } else { TraceKind::Thinking },
                label: t.get("label"),
                text: t.get("text"),
                tokens: token_counts.remove(&format!("trace:{}", t.get::<i64, _>("position"))).unwrap_or_default(),
            })
            .collect::<Vec<Trace>>();
        if let Some(refs) = refs {
            let solution: Option<String> = r.get("solution");
            crate::original::restore(&mut original, &refs, |field| match field {
                "question" => Some(row.question.clone()),
                "answer" => row.answer.clone(),
                "solution" => solution.clone(),
                _ => field.strip_prefix("trace:")?.parse::<usize>().ok().and_then(|i| traces.get(i)).map(|t| t.text.clone()),
            })
            .map_err(|detail| StoreError::Corrupt { sample: id.to_string(), field: "original_refs", detail })?;
        }
        Ok(SampleDetail {
            dataset_name: r.get("dataset_name"),
            solution: r.get("solution"),
            traces,
            correct_choice: r.get::<Option<i64>, _>("correct_choice").map(|c| c as u32),
            tests: r.get("tests"),
            entry_point: r.get("entry_point"),
            grades,
            token_counts,
            original,
            row,
        })
    }

    /// Lengths for a dataset's histogram, with their unit: thinking tokens under the
    /// tokenizer that counted last, else characters of the thinking trace (or question).
    pub async fn thinking_lengths(&self, dataset_id: &str) -> Result<(String, Vec<u64>), StoreError> {
        let tokens: Vec<i64> = sqlx::query_scalar(
            "SELECT thinking_tokens FROM samples WHERE dataset_id = ? AND thinking_tokens IS NOT NULL",
        )
        .bind(dataset_id)
        .fetch_all(&self.pool)
        .await?;
        if !tokens.is_empty() {
            let name: Option<String> = sqlx::query_scalar("SELECT name FROM tokenizers ORDER BY counted_at DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
            let unit = format!("thinking tokens ({})", name.unwrap_or_default());
            return Ok((unit, tokens.into_iter().map(|t| t as u64).collect()));
        }
        let rows = sqlx::query("SELECT has_trace, length_chars FROM samples WHERE dataset_id = ?")
            .bind(dataset_id)
            .fetch_all(&self.pool)
            .await?;
        let with_trace = rows.iter().any(|r| r.get::<bool, _>("has_trace"));
        let unit = if with_trace { "thinking characters" } else { "question characters" };
        let values = rows
            .iter()
            .filter(|r| r.get::<bool, _>("has_trace") == with_trace)
            .map(|r| r.get::<i64, _>("length_chars") as u64)
            .collect();
        Ok((unit.to_string(), values))
    }

    /// Every stored text of a dataset's samples, for token counting: (sample id, field, text).
    pub async fn texts_for_counting(&self, dataset_id: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, 'question' AS field, question AS text FROM samples WHERE dataset_id = ?1 \
             UNION ALL SELECT id, 'answer', answer FROM samples WHERE dataset_id = ?1 AND answer IS NOT NULL \
             UNION ALL SELECT id, 'solution', solution FROM samples WHERE dataset_id = ?1 AND solution IS NOT NULL \
             UNION ALL SELECT t.sample_id, 'trace:' || t.position, t.text FROM traces t \
                 JOIN samples s ON s.id = t.sample_id WHERE s.dataset_id = ?1",
        )
        .bind(dataset_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
    }
}
