//! Finds models on disk: the Hugging Face cache and folders the user names.

use crate::model::config::architecture_name;
use crate::model::{files, gguf};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use thinkscope_protocol::generation::ModelEntry;

/// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hf_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return Some(PathBuf::from(dir));
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(home).join("hub"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
}

/// Every snapshot in a Hugging Face hub cache (`models--org--name/snapshots/<rev>`).
pub fn scan_hf_cache(hub: &Path) -> Vec<ModelEntry> {
    let mut out = Vec::new();
    let Ok(repos) = std::fs::read_dir(hub) else { return out };
    let mut repos: Vec<PathBuf> = repos.filter_map(|e| e.ok().map(|e| e.path())).collect();
    repos.sort();
    for repo in repos {
        let Some(name) = repo.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_prefix("models--")) else {
            continue;
        };
        let name = name.replacen("--", "/", 1);
        let Ok(snapshots) = std::fs::read_dir(repo.join("snapshots")) else { continue };
        for snap in snapshots.filter_map(|e| e.ok().map(|e| e.path())) {
            out.extend(scan_folder(&snap, 1).into_iter().map(|mut e| {
                e.name = if e.format == "gguf" { format!("{name}/{}", e.name) } else { name.clone() };
                e
            }));
        }
    }
    out
}

/// Model directories (with config.json) and GGUF files under `root`, `depth` levels deep.
pub fn scan_folder(root: &Path, depth: usize) -> Vec<ModelEntry> {
    let mut out = Vec::new();
    if root.is_file() {
        if root.extension().is_some_and(|x| x == "gguf") {
            out.push(describe_gguf(root));
        }
        return out;
    }
    if root.join("config.json").is_file() {
        out.push(describe_dir(root));
    }
    let Ok(entries) = std::fs::read_dir(root) else { return out };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_file() && path.extension().is_some_and(|x| x == "gguf") {
            out.push(describe_gguf(&path));
        } else if path.is_dir() && depth > 0 {
            out.extend(scan_folder(&path, depth - 1));
        }
    }
    out
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn describe_dir(dir: &Path) -> ModelEntry {
    let mut entry = ModelEntry {
        name: file_name(dir),
        path: dir.display().to_string(),
        format: "safetensors".into(),
        architecture: None,
        parameters: None,
        dtype: None,
        size_bytes: 0,
        problem: None,
    };
    let config = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    entry.architecture = config.as_ref().and_then(architecture_name);
    match files::weight_files(dir) {
        Ok(weights) => {
            let mut by_dtype: HashMap<String, u64> = HashMap::new();
            for file in &weights {
                entry.size_bytes += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                if let Ok(header) = files::check_safetensors(file) {
                    for (_, dtype, shape) in header.tensors {
                        *by_dtype.entry(dtype.to_lowercase()).or_default() += shape.iter().product::<usize>() as u64;
                    }
                }
            }
            entry.parameters = Some(by_dtype.values().sum());
            entry.dtype = by_dtype.into_iter().max_by_key(|(_, n)| *n).map(|(d, _)| d);
        }
        Err(e) => entry.problem = Some(e.to_string()),
    }
    entry
}

fn describe_gguf(path: &Path) -> ModelEntry {
    let mut entry = ModelEntry {
        name: file_name(path),
        path: path.display().to_string(),
        format: "gguf".into(),
        architecture: None,
        parameters: None,
        dtype: None,
        size_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        problem: None,
    };
    match gguf::read_content(path).and_then(|(content, _)| gguf::header(path, &content)) {
        Ok(h) => {
            entry.architecture = Some(h.arch);
            entry.parameters = Some(h.parameters);
            entry.dtype = Some(h.dtype);
        }
        Err(e) => entry.problem = Some(e.to_string()),
    }
    entry
}
