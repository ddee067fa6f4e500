//! Datasets, samples, search and import: the library side of the protocol.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A dataset as stored: one imported file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Content-derived id (hex), stable across machines so databases can be merged.
    pub id: String,
    pub name: String,
    /// File name the rows came from (no directory).
    pub source_file: String,
    /// Container format: `jsonl`, `json`, `csv` or `parquet`.
    pub format: String,
    /// Detected or mapped schema, e.g. `math500`, `s1k-1.1`, `custom`.
    pub schema: String,
    /// sha256 of the file bytes (hex).
    pub content_hash: String,
    pub size_bytes: u64,
    pub rows: u64,
    /// Rows in the full-text index; search sees only these. Equal to `rows` once the
    /// index, built after the import commits, has caught up.
    pub indexed_rows: u64,
    /// RFC 3339, UTC.
    pub imported_at: String,
}

/// Container formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Auto,
    Jsonl,
    Json,
    Csv,
    Parquet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => Format::Auto,
            "jsonl" | "ndjson" => Format::Jsonl,
            "json" => Format::Json,
            "csv" => Format::Csv,
            "parquet" => Format::Parquet,
            other => return Err(format!("unknown format `{other}` (auto, jsonl, json, csv, parquet)")),
        })
    }
}

/// The canonical sample fields a source column can be mapped onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanonicalField {
    ExternalId,
    Question,
    Answer,
    Solution,
    /// A thinking trace; may be mapped more than once (`thinking`, then the next column).
    Thinking,
    /// A final attempt written after thinking.
    Attempt,
    Domain,
    Subject,
    Source,
    Level,
    /// A list column, or a JSON array in a string.
    Choices,
    /// Index into `choices` or the text of the correct choice.
    CorrectChoice,
    Tests,
    EntryPoint,
}

impl CanonicalField {
    pub const ALL: [CanonicalField; 14] = [
        CanonicalField::ExternalId,
        CanonicalField::Question,
        CanonicalField::Answer,
        CanonicalField::Solution,
        CanonicalField::Thinking,
        CanonicalField::Attempt,
        CanonicalField::Domain,
        CanonicalField::Subject,
        CanonicalField::Source,
        CanonicalField::Level,
        CanonicalField::Choices,
        CanonicalField::CorrectChoice,
        CanonicalField::Tests,
        CanonicalField::EntryPoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CanonicalField::ExternalId => "external_id",
            CanonicalField::Question => "question",
            CanonicalField::Answer => "answer",
            CanonicalField::Solution => "solution",
            CanonicalField::Thinking => "thinking",
            CanonicalField::Attempt => "attempt",
            CanonicalField::Domain => "domain",
            CanonicalField::Subject => "subject",
            CanonicalField::Source => "source",
            CanonicalField::Level => "level",
            CanonicalField::Choices => "choices",
            CanonicalField::CorrectChoice => "correct_choice",
            CanonicalField::Tests => "tests",
            CanonicalField::EntryPoint => "entry_point",
        }
    }
}

impl std::str::FromStr for CanonicalField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CanonicalField::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = CanonicalField::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown field `{s}` (one of: {})", names.join(", "))
            })
    }
}

/// `FIELD=COLUMN`: take canonical `field` from source column `column`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    pub field: CanonicalField,
    pub column: String,
}

impl std::str::FromStr for FieldMapping {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (field, column) = s
            .split_once('=')
            .ok_or_else(|| format!("mapping `{s}` is not FIELD=COLUMN"))?;
        Ok(FieldMapping { field: field.trim().parse()?, column: column.trim().to_string() })
    }
}

/// What the user asks the importer to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImportRequest {
    pub path: String,
    pub name: Option<String>,
    pub format: Format,
    /// Explicit mapping; when empty the known schemas are auto-detected.
    pub mapping: Vec<FieldMapping>,
    /// Store the good rows and report the bad ones instead of failing the whole import.
    pub skip_bad_rows: bool,
}

/// Streaming progress of an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ImportProgress {
    pub rows: u64,
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub elapsed_secs: f64,
    /// Estimated seconds left, once there is enough to estimate from.
    pub eta_secs: Option<f64>,
}

/// The full-text index catching up with a dataset, after each chunk of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexProgress {
    pub dataset_id: String,
    pub indexed_rows: u64,
    pub rows: u64,
}

/// A row the importer rejected: where, which field, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub file: String,
    /// 1-based line (JSONL/CSV), or 1-based row (JSON array, parquet).
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub dataset: DatasetInfo,
    /// The same content was imported before: nothing was written.
    pub already_present: bool,
    pub skipped: Vec<RowError>,
}

/// The first rows of a file with its columns, for the mapping dialog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub format: Format,
    pub columns: Vec<String>,
    /// Cell text of the first rows, one entry per column (long cells cut).
    pub rows: Vec<Vec<String>>,
    /// A known schema, when the columns match one.
    pub detected_schema: Option<String>,
    /// The mapping the importer would use; editable by the user.
    pub mapping: Vec<FieldMapping>,
}

/// Kind of a trace attached to a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceKind {
    Thinking,
    Attempt,
}

/// Token count of one text field under one tokenizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCount {
    pub tokenizer: String,
    pub tokens: u64,
}

/// A thinking trace or attempt (s1K-1.1 has a gemini and a deepseek one of each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub kind: TraceKind,
    /// Which model wrote it (`gemini`, `deepseek`), or empty.
    pub label: String,
    pub text: String,
    pub tokens: Vec<TokenCount>,
}

/// A text with byte ranges of search matches to highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Highlighted {
    pub text: String,
    /// `[start, end)` byte offsets into `text`, sorted, non-overlapping.
    pub marks: Vec<[usize; 2]>,
}

/// One row of the sample table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRow {
    pub id: String,
    pub dataset_id: String,
    pub row_index: u64,
    pub external_id: Option<String>,
    pub question: String,
    pub answer: Option<String>,
    pub domain: Option<String>,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub level: Option<String>,
    pub choices: Option<Vec<String>>,
    pub has_trace: bool,
    /// Tokens of the first thinking trace under the newest tokenizer counted, if any.
    pub thinking_tokens: Option<u64>,
    /// Part of the question (or trace) around the first search match.
    pub snippet: Option<Highlighted>,
}

/// Everything about one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleDetail {
    pub row: SampleRow,
    pub dataset_name: String,
    pub solution: Option<String>,
    pub traces: Vec<Trace>,
    /// Index into `row.choices` of the correct choice (choices are stored unshuffled).
    pub correct_choice: Option<u32>,
    pub tests: Option<String>,
    pub entry_point: Option<String>,
    /// e.g. `gemini_grade` → `Yes`.
    pub grades: BTreeMap<String, String>,
    /// Token counts of the question and answer: field → counts.
    pub token_counts: BTreeMap<String, Vec<TokenCount>>,
    /// The source row as it was read.
    pub original: serde_json::Value,
}

/// Filters over samples; every set field must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SampleFilter {
    pub domain: Option<String>,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub level: Option<String>,
    pub has_trace: Option<bool>,
    /// Inclusive range on the thinking-trace token count.
    pub min_thinking_tokens: Option<u64>,
    pub max_thinking_tokens: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SampleSort {
    /// File order (search hits too).
    #[default]
    Default,
    LengthAsc,
    LengthDesc,
}

/// A page request for the sample table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleQuery {
    /// `None`: every dataset.
    pub dataset_id: Option<String>,
    /// FTS5 query over question, solution and traces.
    pub search: Option<String>,
    pub filter: SampleFilter,
    pub sort: SampleSort,
    pub limit: u32,
    pub offset: u64,
}

impl Default for SampleQuery {
    fn default() -> Self {
        SampleQuery {
            dataset_id: None,
            search: None,
            filter: SampleFilter::default(),
            sort: SampleSort::Default,
            limit: 100,
            offset: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePage {
    /// Rows matching the query, over all pages.
    pub total: u64,
    pub rows: Vec<SampleRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Counts per facet value for the rows matching a query (ignoring its paging).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Facets {
    pub domain: Vec<FacetCount>,
    pub subject: Vec<FacetCount>,
    pub source: Vec<FacetCount>,
    pub level: Vec<FacetCount>,
    /// `true` / `false` counts.
    pub has_trace: Vec<FacetCount>,
    /// Smallest and largest thinking-token count among matching rows.
    pub thinking_tokens_range: Option<[u64; 2]>,
}

/// Charts of a dataset, as standalone SVG documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetCharts {
    pub domain_svg: String,
    pub length_svg: String,
}

/// What a database file is, as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryInfo {
    pub path: String,
    pub read_only: bool,
    pub schema_version: i64,
}
