//! The files of a Hugging Face model directory, checked before anything is mapped.

use crate::error::{EngineError, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a model directory holds.
#[derive(Debug, Clone)]
pub struct HfFiles {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub tokenizer_config: Option<PathBuf>,
    pub generation_config: Option<PathBuf>,
    pub weights: Vec<PathBuf>,
}

impl HfFiles {
    pub fn find(dir: &Path) -> Result<HfFiles> {
        let required = |name: &str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EngineError::bad_file(&p, format!("missing {name} in the model directory")))
            }
        };
        let optional = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        Ok(HfFiles {
            dir: dir.to_path_buf(),
            config: required("config.json")?,
            tokenizer: required("tokenizer.json")?,
            tokenizer_config: optional("tokenizer_config.json"),
            generation_config: optional("generation_config.json"),
            weights: weight_files(dir)?,
        })
    }
}

/// Shards named by `model.safetensors.index.json`, else every `*.safetensors` file.
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    let files = if index.is_file() {
        let text = std::fs::read_to_string(&index).map_err(|e| EngineError::io(&index, e))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| EngineError::bad_file(&index, format!("not valid JSON: {e}")))?;
        let map = value["weight_map"]
            .as_object()
            .ok_or_else(|| EngineError::bad_file(&index, "no `weight_map` object"))?;
        let mut names: Vec<&str> = map.values().filter_map(|v| v.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let files: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
        if let Some(missing) = files.iter().find(|f| !f.is_file()) {
            return Err(EngineError::bad_file(
                missing,
                format!("shard listed in {} is missing", index.display()),
            ));
        }
        files
    } else {
        let entries = std::fs::read_dir(dir).map_err(|e| EngineError::io(dir, e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .collect();
        files.sort();
        files
    };
    if files.is_empty() {
        return Err(EngineError::bad_file(dir, "no *.safetensors weights in the model directory"));
    }
    for file in &files {
        check_safetensors(file)?;
    }
    Ok(files)
}

/// Tensor names, dtypes and shapes from a safetensors header.
pub struct SafetensorsHeader {
    pub tensors: Vec<(String, String, Vec<usize>)>,
}

/// Reads the header and checks the file holds every byte it promises, so a truncated
/// download is reported by name instead of failing deep inside the loader.
pub fn check_safetensors(path: &Path) -> Result<SafetensorsHeader> {
    let bad = |m: String| EngineError::bad_file(path, m);
    let mut file = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
    let size = file.metadata().map_err(|e| EngineError::io(path, e))?.len();
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| bad(format!("truncated safetensors: only {size} bytes, no header")))?;
    let header_len = u64::from_le_bytes(len);
    if header_len > size.saturating_sub(8) || header_len > 100 << 20 {
        return Err(bad(format!(
            "truncated or corrupt safetensors: header of {header_len} bytes in a {size}-byte file"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header).map_err(|e| EngineError::io(path, e))?;
    let value: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("corrupt safetensors header: {e}")))?;
    let map = value.as_object().ok_or_else(|| bad("safetensors header is not an object".into()))?;
    let mut data_end = 0u64;
    let mut tensors = Vec::new();
    for (name, info) in map.iter().filter(|(k, _)| *k != "__metadata__") {
        let end = info["data_offsets"][1]
            .as_u64()
            .ok_or_else(|| bad(format!("tensor `{name}` has no data_offsets")))?;
        data_end = data_end.max(end);
        let dtype = info["dtype"].as_str().unwrap_or("?").to_string();
        let shape = info["shape"]
            .as_array()
            .map(|s| s.iter().filter_map(|d| d.as_u64()).map(|d| d as usize).collect())
            .unwrap_or_default();
        tensors.push((name.clone(), dtype, shape));
    }
    let expected = 8 + header_len + data_end;
    if size < expected {
        return Err(bad(format!(
            "truncated safetensors: header promises {expected} bytes, file has {size}"
        )));
    }
    Ok(SafetensorsHeader { tensors })
}
