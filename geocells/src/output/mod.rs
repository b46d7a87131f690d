//! Writing a run: files, the output directory as one unit, review map and QGIS style, targets.
pub mod atomic;
pub mod cells_files;
pub mod dir;
pub mod error;
pub mod export;
pub mod map;
pub mod palette;
pub mod parquet;
pub mod points_files;
pub mod qml;
pub mod report;
pub mod targets;
pub mod targets_file;
