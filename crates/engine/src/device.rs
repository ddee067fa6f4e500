//! Device and dtype selection. GPUs are behind the `cuda` / `metal` cargo features.

use crate::error::{EngineError, Result};
pub use candle_core::DType;
use candle_core::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    #[default]
    Cpu,
    Cuda,
    Metal,
}

impl std::str::FromStr for DeviceKind {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(DeviceKind::Cpu),
            "cuda" => Ok(DeviceKind::Cuda),
            "metal" => Ok(DeviceKind::Metal),
            other => Err(EngineError::Invalid(format!("unknown device `{other}` (cpu, cuda, metal)"))),
        }
    }
}

impl DeviceKind {
    pub fn open(self) -> Result<Device> {
        match self {
            DeviceKind::Cpu => Ok(Device::Cpu),
            DeviceKind::Cuda => open_cuda(),
            DeviceKind::Metal => open_metal(),
        }
    }
}

#[cfg(feature = "cuda")]
fn open_cuda() -> Result<Device> {
    Device::new_cuda(0).map_err(|e| EngineError::Device(format!("cuda:0: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda() -> Result<Device> {
    Err(EngineError::Device("this build has no CUDA support (cargo feature `cuda`)".into()))
}

#[cfg(feature = "metal")]
fn open_metal() -> Result<Device> {
    Device::new_metal(0).map_err(|e| EngineError::Device(format!("metal:0: {e}")))
}

#[cfg(not(feature = "metal"))]
fn open_metal() -> Result<Device> {
    Err(EngineError::Device("this build has no Metal support (cargo feature `metal`)".into()))
}

/// `cpu`, `cuda:0`, `metal:0`.
pub fn device_label(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".to_string(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

pub fn parse_dtype(s: &str) -> Result<DType> {
    match s {
        "f32" => Ok(DType::F32),
        "bf16" => Ok(DType::BF16),
        "f16" => Ok(DType::F16),
        other => Err(EngineError::Invalid(format!("unknown dtype `{other}` (f32, bf16, f16)"))),
    }
}

pub fn dtype_label(dtype: DType) -> &'static str {
    dtype.as_str()
}
