//! `geocells._geocells`: the Python extension module over the geocells library (PyO3, abi3).
//!
//! The Python package `geocells` (python/geocells) wraps these functions; users do not call
//! them directly. Tables cross the boundary as Arrow C streams (the Arrow PyCapsule interface,
//! <https://arrow.apache.org/docs/format/CDataInterface/PyCapsuleInterface.html>) in both
//! directions, read and written with polars-arrow's C stream import/export, so column buffers
//! are handed over, not converted row by row. Long work runs on a Rust thread while the
//! calling thread waits without the GIL, reporting progress and watching for Ctrl-C.

use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use geocells::{
    BoundarySpec, CellLookup, Error, ExportOptions, Inputs, LevelSpec, MapParams, Metric, Params,
    Pipeline, PointsSpec, Progress, Run, Smoother, SmoothingParams,
};
use polars::prelude::{CompatLevel, DataFrame, DataType, PolarsError};
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::ffi;
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};

pyo3::create_exception!(
    _geocells,
    GeocellsError,
    PyException,
    "An error of the geocells library; the message is the library's own."
);
pyo3::create_exception!(
    _geocells,
    InputError,
    GeocellsError,
    "An input file or table could not be used (the message names the file, row or feature)."
);
pyo3::create_exception!(
    _geocells,
    ParamsError,
    GeocellsError,
    "A parameter is out of range (the message gives the allowed range)."
);
pyo3::create_exception!(
    _geocells,
    OutputError,
    GeocellsError,
    "The outputs could not be written or checked."
);

/// The capsule name of an Arrow C stream.
const STREAM: &CStr = c"arrow_array_stream";

/// A library error as the matching Python exception, with the library's message.
fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::Cancelled | Error::Split(geocells::SplitError::Cancelled) => {
            PyKeyboardInterrupt::new_err("geocells: cancelled")
        }
        Error::Params(_) => ParamsError::new_err(message),
        Error::Io(_)
        | Error::Admin(_)
        | Error::NoPoints(_)
        | Error::Assign(_)
        | Error::Assigned(_) => InputError::new_err(message),
        Error::Export(_) | Error::Output(_) => OutputError::new_err(message),
        _ => GeocellsError::new_err(message),
    }
}

fn polars_err(e: PolarsError) -> PyErr {
    GeocellsError::new_err(e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Arrow C streams

/// Reads an object with `__arrow_c_stream__` (a pyarrow Table, a polars or pandas DataFrame)
/// into a polars `DataFrame`, taking over its column buffers.
fn frame_from_arrow(obj: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(
            "expected a table with __arrow_c_stream__ (pyarrow.Table, polars or pandas DataFrame)",
        ));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: by the Arrow PyCapsule interface, a capsule named "arrow_array_stream" points to
    // a valid `ArrowArrayStream` (the C struct, which `ffi::ArrowArrayStream` mirrors with
    // `repr(C)`). The consumer moves the stream out and leaves a released one (release =
    // NULL) in its place, so the capsule's destructor does nothing with it; we hold the GIL,
    // so no one else touches the capsule meanwhile.
    let stream = unsafe {
        std::ptr::replace(
            pointer.as_ptr().cast::<ffi::ArrowArrayStream>(),
            ffi::ArrowArrayStream::empty(),
        )
    };
    // SAFETY: `stream` is a valid, owned C stream (above); the reader calls its callbacks as
    // the C stream interface specifies and releases it when dropped.
    let mut reader =
        unsafe { ffi::ArrowArrayStreamReader::try_new(Box::new(stream)) }.map_err(polars_err)?;
    let field = reader.field().clone();
    let mut frame: Option<DataFrame> = None;
    // SAFETY: as for `try_new`; each array is imported with the stream's schema.
    while let Some(array) = unsafe { reader.next() } {
        let array = array.map_err(polars_err)?;
        let batch = array
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| PyTypeError::new_err("the Arrow stream does not hold record batches"))?
            .clone();
        let df = DataFrame::try_from(batch).map_err(polars_err)?;
        match frame.as_mut() {
            None => frame = Some(df),
            Some(f) => {
                f.vstack_mut_owned(df).map_err(polars_err)?;
            }
        }
    }
    match frame {
        Some(mut f) => {
            f.rechunk_mut_par();
            Ok(f)
        }
        None => {
            let empty = StructArray::new_empty(field.dtype().clone());
            DataFrame::try_from(empty).map_err(polars_err)
        }
    }
}

/// A polars `DataFrame` as an Arrow C stream capsule (one record batch). Strings and binaries
/// go out as the classic `large_string`/`large_binary` types every Arrow reader knows.
fn frame_to_arrow<'py>(py: Python<'py>, mut df: DataFrame) -> PyResult<Bound<'py, PyCapsule>> {
    df.rechunk_mut_par();
    let compat = CompatLevel::oldest();
    let fields: Vec<ArrowField> = df
        .columns()
        .iter()
        .map(|c| c.field().to_arrow(compat))
        .collect();
    let arrays: Vec<Box<dyn Array>> = df
        .columns()
        .iter()
        .map(|c| c.as_materialized_series().to_arrow(0, compat))
        .collect();
    let dtype = ArrowDataType::Struct(fields);
    let batch =
        StructArray::try_new(dtype.clone(), df.height(), arrays, None).map_err(polars_err)?;
    let field = ArrowField::new("".into(), dtype, false);
    let batches = std::iter::once(Ok(Box::new(batch) as Box<dyn Array>));
    let stream = ffi::export_iterator(Box::new(batches), field);
    PyCapsule::new_with_value(py, stream, STREAM)
}

/// A column of a frame as doubles (integers are widened), or an error naming it.
fn f64_column(df: &DataFrame, name: &str) -> PyResult<Vec<f64>> {
    let c = df
        .column(name)
        .map_err(|_| PyValueError::new_err(format!("no column '{name}'")))?;
    let c = c.cast(&DataType::Float64).map_err(polars_err)?;
    let values = c.f64().map_err(polars_err)?;
    Ok(values.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

// ---------------------------------------------------------------------------------------------
// Progress and Ctrl-C

/// Progress shared between the working thread (which updates it) and the waiting Python
/// thread (which shows it and sets `cancel` on Ctrl-C).
#[derive(Default)]
struct Shared {
    /// Every stage started so far: name and total.
    stages: Mutex<Vec<(String, u64)>>,
    done: AtomicU64,
    cancel: AtomicBool,
}

impl Progress for Shared {
    fn stage(&self, name: &str, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut s) = self.stages.lock() {
            s.push((name.to_string(), total));
        }
    }
    fn inc(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    fn done(&self) {}
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Runs `work` on its own thread (with `threads` rayon threads, or the global pool) while this
/// thread waits without the GIL. Every 100 ms it takes the GIL to call
/// `callback(stage_number, stage_name, done, total)` and to check for signals: on Ctrl-C the
/// work is told to stop and `KeyboardInterrupt` is raised at once.
fn run_detached<T: Send + 'static>(
    py: Python<'_>,
    threads: Option<usize>,
    callback: Option<Py<PyAny>>,
    work: impl FnOnce(&Shared) -> Result<T, Error> + Send + 'static,
) -> PyResult<T> {
    let shared = Arc::new(Shared::default());
    let (tx, rx) = mpsc::channel();
    let pool = match threads {
        Some(t) => Some({
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            if t == 0 || t > 4 * cores {
                return Err(ParamsError::new_err(format!(
                    "threads: must be from 1 to {} (4 x the {cores} cores here), got {t}",
                    4 * cores
                )));
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| ParamsError::new_err(format!("threads: {e}")))?
        }),
        None => None,
    };
    let worker = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("geocells".into())
        .spawn(move || {
            let result = match pool {
                Some(p) => p.install(|| work(&worker)),
                None => work(&worker),
            };
            // The receiver is gone only if Python was interrupted; the result is dropped.
            let _ = tx.send(result);
        })
        .map_err(|e| GeocellsError::new_err(format!("starting the worker thread: {e}")))?;
    // The last (stage number, done) shown.
    let mut shown = (0usize, u64::MAX);
    // The receiver is moved into each wait (it is Send, not Sync) and handed back.
    let mut rx = Some(rx);
    loop {
        let waiting = rx.take();
        let (back, received) = py.detach(move || match waiting {
            Some(r) => {
                let got = r.recv_timeout(Duration::from_millis(100));
                (Some(r), got)
            }
            None => (None, Err(mpsc::RecvTimeoutError::Disconnected)),
        });
        rx = back;
        if let Err(e) = py.check_signals() {
            shared.cancel.store(true, Ordering::Relaxed);
            return Err(e);
        }
        if let Some(cb) = &callback {
            // Every stage is shown, even one that started and ended between two polls.
            let stages: Vec<(String, u64)> =
                shared.stages.lock().map(|s| s.clone()).unwrap_or_default();
            let done = shared.done.load(Ordering::Relaxed);
            for (i, (name, total)) in stages.iter().enumerate().skip(shown.0.saturating_sub(1)) {
                let number = i + 1;
                let now_done = if number == stages.len() { done } else { *total };
                if (number, now_done) != shown {
                    if let Err(e) = cb.call1(py, (number, name.as_str(), now_done, *total)) {
                        // A failing callback stops the run, as Ctrl-C does.
                        shared.cancel.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                    shown = (number, now_done);
                }
            }
        }
        match received {
            Ok(result) => return result.map_err(to_py),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(GeocellsError::new_err("the worker thread panicked"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs and parameters

fn opt_string(d: &Bound<'_, PyDict>, key: &str) -> PyResult<Option<String>> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => Ok(Some(v.extract()?)),
        _ => Ok(None),
    }
}

/// A boundary level from the Python layer's dict: `path` plus the column options of
/// `build_cells` (`code_col`, `name_col`, `admin1_code_col`, `admin1_name_col`,
/// `country_code_col`, `country_name_col`, `country` as `(code, name)`).
fn level(d: Option<Bound<'_, PyDict>>) -> PyResult<Option<LevelSpec>> {
    let Some(d) = d else { return Ok(None) };
    let path: PathBuf = d
        .get_item("path")?
        .ok_or_else(|| PyValueError::new_err("a boundary level needs a path"))?
        .extract()?;
    let mut l = LevelSpec::new(path);
    l.code_column = opt_string(&d, "code_col")?;
    l.name_column = opt_string(&d, "name_col")?;
    l.admin1_code_column = opt_string(&d, "admin1_code_col")?;
    l.admin1_name_column = opt_string(&d, "admin1_name_col")?;
    l.country_code_column = opt_string(&d, "country_code_col")?;
    l.country_name_column = opt_string(&d, "country_name_col")?;
    if let Some(v) = d.get_item("country")?
        && !v.is_none()
    {
        l.fixed_country = Some(v.extract()?);
    }
    Ok(Some(l))
}

/// The points: a path (with optional column names) or an Arrow table.
fn points(source: &Bound<'_, PyAny>, columns: &Bound<'_, PyDict>) -> PyResult<PointsSpec> {
    let mut spec = if let Ok(path) = source.extract::<PathBuf>() {
        PointsSpec::new(path)
    } else {
        PointsSpec::frame(frame_from_arrow(source)?)
    };
    spec.lon_column = opt_string(columns, "lon_col")?;
    spec.lat_column = opt_string(columns, "lat_col")?;
    spec.id_column = opt_string(columns, "id_col")?;
    spec.geometry_column = opt_string(columns, "geometry_col")?;
    Ok(spec)
}

/// `Params` from the Python layer's dict; every key is optional and means what the
/// `build_cells` flag of the same name means.
fn params(d: &Bound<'_, PyDict>) -> PyResult<Params> {
    let preset = opt_string(d, "preset")?.unwrap_or_else(|| "pigeon".into());
    let mut p = Params::preset(&preset).map_err(|e| to_py(e.into()))?;
    let get = |k: &str| d.get_item(k).map(|v| v.filter(|v| !v.is_none()));
    if let Some(v) = get("min_size")? {
        p = p.min_size(v.extract()?);
    }
    if let Some(v) = get("max_size")? {
        p = p.max_size(v.extract()?);
    }
    if let Some(v) = get("optics")? {
        p = p.optics(v.extract::<Vec<(usize, f64)>>()?);
    }
    if let Some(v) = get("metric")? {
        p = p.metric(match v.extract::<String>()?.as_str() {
            "sphere" => Metric::Sphere,
            "degrees" => Metric::Degrees,
            other => {
                return Err(ParamsError::new_err(format!(
                    "metric: '{other}' is not one of 'sphere', 'degrees'"
                )));
            }
        });
    }
    if let Some(v) = get("split")? {
        p = p.split(v.extract()?);
    }
    if let Some(v) = get("fallback")? {
        p = p.fallback(v.extract()?);
    }
    if let Some(v) = get("semantic_split")? {
        p = p.semantic_split(v.extract()?);
    }
    if let Some(v) = get("semantic_tolerance")? {
        p = p.semantic_tolerance(Some(v.extract()?));
    }
    if let Some(v) = get("check_carves")? {
        p = p.check_each_carve(v.extract()?);
    }
    if let Some(v) = get("snap_km")? {
        p = p.snap_km(v.extract()?);
    }
    // Present and None switches the guard off; absent keeps the default.
    if let Some(v) = d.get_item("fuse_max_km")? {
        p = p.fuse_max_km(v.extract::<Option<f64>>()?);
    }
    if let Some(v) = get("tau_km")? {
        p = p.tau_km(v.extract()?);
    }
    if let Some(v) = get("top_k")? {
        p = p.top_k(v.extract()?);
    }
    if let Some(v) = get("countries")? {
        p = p.countries(Some(v.extract::<Vec<String>>()?));
    }
    Ok(p)
}

fn inputs(
    source: &Bound<'_, PyAny>,
    columns: &Bound<'_, PyDict>,
    admin0: Option<Bound<'_, PyDict>>,
    admin1: Option<Bound<'_, PyDict>>,
    admin2: Option<Bound<'_, PyDict>>,
) -> PyResult<Inputs> {
    Ok(Inputs::new(
        points(source, columns)?,
        BoundarySpec {
            country: level(admin0)?,
            admin1: level(admin1)?,
            admin2: level(admin2)?,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// The run

/// A finished run: its cells, labels, targets, rejects and report (wrapped by `geocells.Run`).
#[pyclass(frozen, module = "geocells._geocells")]
struct RunHandle {
    run: Arc<Run>,
    problems: Vec<String>,
}

/// Runs the partition check (as `build_cells` does unless `--no-validate`) and records it in
/// the report; a failed check keeps the run and returns its problems.
fn validated(mut run: Run, validate: bool, shared: &Shared) -> (Run, Vec<String>) {
    if !validate {
        return (run, Vec::new());
    }
    shared.stage("validate partition", 0);
    let problems = match run.validate_and_record() {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    };
    (run, problems)
}

#[pymethods]
impl RunHandle {
    /// The cells (the `cells.parquet` table, WKB geometry) as an Arrow C stream capsule.
    fn cells<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let run = Arc::clone(&self.run);
        let df = py.detach(move || run.cells_frame()).map_err(polars_err)?;
        frame_to_arrow(py, df)
    }
    /// The point labels (the `points.parquet` table without geometry).
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let run = Arc::clone(&self.run);
        let df = py.detach(move || run.labels_frame()).map_err(polars_err)?;
        frame_to_arrow(py, df)
    }
    /// The smoothed targets (the `targets.parquet` table).
    fn targets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let run = Arc::clone(&self.run);
        let df = py.detach(move || run.targets_frame()).map_err(polars_err)?;
        frame_to_arrow(py, df)
    }
    /// The rejected input rows (the `rejects.parquet` table).
    fn rejects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let df = self.run.rejects_frame().map_err(polars_err)?;
        frame_to_arrow(py, df)
    }
    /// `report.json`'s content (without the manifest of written files) as JSON text.
    fn report_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.run.report().to_value())
            .map_err(|e| GeocellsError::new_err(e.to_string()))
    }
    /// The problems the partition check found (empty when it passed or did not run).
    fn problems(&self) -> Vec<String> {
        self.problems.clone()
    }
    /// Number of cells.
    fn num_cells(&self) -> usize {
        self.run.cells().len()
    }
    /// Writes every output file into `out` as one unit, as `build_cells --out` does; returns
    /// the written paths. `map_bbox` is `None`, a name of `MAP_REGIONS` or four numbers
    /// (min_lon, min_lat, max_lon, max_lat), `map_colour` `"cell"` or `"rule"`, as
    /// `--map-bbox` and `--map-colour`; a bad value raises `ValueError` before anything is
    /// written.
    #[pyo3(signature = (out, map_points=false, map_width=2400, progress=None, map_bbox=None, map_colour="cell"))]
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        py: Python<'_>,
        out: PathBuf,
        map_points: bool,
        map_width: u32,
        progress: Option<Py<PyAny>>,
        map_bbox: Option<Bound<'_, PyAny>>,
        map_colour: &str,
    ) -> PyResult<Vec<PathBuf>> {
        let run = Arc::clone(&self.run);
        let bad = |e: geocells::ExportError| PyValueError::new_err(e.to_string());
        let bbox = match map_bbox {
            None => None,
            Some(b) => Some(if let Ok(name) = b.extract::<String>() {
                geocells::parse_map_bbox(&name).map_err(bad)?
            } else {
                let v: [f64; 4] = b.extract().map_err(|_| {
                    PyValueError::new_err(format!(
                        "map_bbox {b}: neither a name nor four numbers \
                         (min_lon, min_lat, max_lon, max_lat)"
                    ))
                })?;
                geocells::check_map_bbox(&v).map_err(bad)?;
                v
            }),
        };
        let colour = geocells::MapColour::parse(map_colour).map_err(bad)?;
        let options = ExportOptions::default().map(
            MapParams::default()
                .points(map_points)
                .width(map_width)
                .bbox(bbox)
                .colour(colour),
        );
        let written = run_detached(py, None, progress, move |shared| {
            shared.stage("write outputs", 0);
            geocells::write_all_with(&run, &out, &options).map_err(Error::from)
        })?;
        Ok(written.files)
    }
}

/// Builds the cells (`Pipeline::run`), or with `shards` merges per-country runs written there
/// (`Pipeline::merge`, same inputs and parameters as the shards, without `countries`).
/// `points` is a path or an Arrow table; `columns` holds `lon_col`, `lat_col`, `id_col`,
/// `geometry_col`; each admin level is `None` or a dict (see `level`); `params` as in
/// `params`.
#[pyfunction]
#[pyo3(signature = (points, columns, admin0, admin1, admin2, params, threads=None, progress=None, validate=true, shards=None))]
#[allow(clippy::too_many_arguments)]
fn build(
    py: Python<'_>,
    points: &Bound<'_, PyAny>,
    columns: &Bound<'_, PyDict>,
    admin0: Option<Bound<'_, PyDict>>,
    admin1: Option<Bound<'_, PyDict>>,
    admin2: Option<Bound<'_, PyDict>>,
    params: &Bound<'_, PyDict>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    validate: bool,
    shards: Option<Vec<PathBuf>>,
) -> PyResult<RunHandle> {
    let inputs = inputs(points, columns, admin0, admin1, admin2)?;
    let pipeline = Pipeline::new(self::params(params)?).map_err(to_py)?;
    let (run, problems) = run_detached(py, threads, progress, move |shared| {
        let run = match &shards {
            Some(dirs) => pipeline.merge(&inputs, dirs, shared)?,
            None => pipeline.run(&inputs, shared)?,
        };
        Ok(validated(run, validate, shared))
    })?;
    Ok(RunHandle {
        run: Arc::new(run),
        problems,
    })
}

/// The assign-once pass (`Pipeline::assign_once`, `build_cells --write-assigned`): assigns the
/// points and writes them to `out` as a dataset partitioned by country; returns the manifest
/// as JSON text. Arguments as in `build` (`params` needs only `snap_km`).
#[pyfunction]
#[pyo3(signature = (points, columns, admin0, admin1, admin2, params, out, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn assign_once(
    py: Python<'_>,
    points: &Bound<'_, PyAny>,
    columns: &Bound<'_, PyDict>,
    admin0: Option<Bound<'_, PyDict>>,
    admin1: Option<Bound<'_, PyDict>>,
    admin2: Option<Bound<'_, PyDict>>,
    params: &Bound<'_, PyDict>,
    out: PathBuf,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let inputs = inputs(points, columns, admin0, admin1, admin2)?;
    let pipeline = Pipeline::new(self::params(params)?).map_err(to_py)?;
    let manifest = run_detached(py, threads, progress, move |shared| {
        let dir = geocells::prepare_dataset_dir(&out)?;
        pipeline.assign_once(&inputs, dir, shared)
    })?;
    serde_json::to_string(&manifest).map_err(|e| GeocellsError::new_err(e.to_string()))
}

/// Checks an output directory (`build_cells --check-output`): returns
/// `(consistent, run_id, problems)`.
#[pyfunction]
fn check_output(dir: PathBuf) -> PyResult<(bool, Option<String>, Vec<String>)> {
    let c = geocells::check_output(&dir).map_err(|e| to_py(e.into()))?;
    Ok((c.is_consistent(), c.run_id.clone(), c.problems.clone()))
}

// ---------------------------------------------------------------------------------------------
// Assign, smooth, metrics

/// Cells of a run or of a `cells.parquet` file for assigning points.
fn lookup(cells: &Bound<'_, PyAny>) -> PyResult<CellLookup> {
    if let Ok(handle) = cells.cast::<RunHandle>() {
        let run = &handle.get().run;
        let polygons = run
            .cells()
            .cells()
            .iter()
            .map(|c| (c.id, c.geometry.clone()))
            .collect();
        CellLookup::new(polygons).map_err(|e| to_py(e.into()))
    } else {
        let path: PathBuf = cells.extract()?;
        CellLookup::read(&path).map_err(|e| to_py(e.into()))
    }
}

/// Assigns points (a table with `lon`, `lat`) to the cells of a run or a `cells.parquet`:
/// returns a table `cell_id`, `distance_km` (0 inside a cell, else the distance to the cell it
/// was snapped to), as `assign_cells` does.
#[pyfunction]
fn assign<'py>(
    py: Python<'py>,
    cells: &Bound<'py, PyAny>,
    points: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let lookup = lookup(cells)?;
    let df = frame_from_arrow(points)?;
    let (lon, lat) = (f64_column(&df, "lon")?, f64_column(&df, "lat")?);
    let located: Vec<(u32, f64)> = py.detach(|| {
        use rayon::prelude::*;
        lon.par_iter()
            .zip(lat.par_iter())
            .with_min_len(1024)
            .map(|(&x, &y)| lookup.locate(x, y))
            .collect()
    });
    let cell: Vec<i64> = located.iter().map(|p| i64::from(p.0)).collect();
    let km: Vec<f64> = located.iter().map(|p| p.1).collect();
    let df = DataFrame::new(
        cell.len(),
        vec![
            polars::prelude::Column::new("cell_id".into(), cell),
            polars::prelude::Column::new("distance_km".into(), km),
        ],
    )
    .map_err(polars_err)?;
    frame_to_arrow(py, df)
}

/// Label smoothing for arbitrary points: `points` has `lon`, `lat`; `centroids` has
/// `centroid_lon`, `centroid_lat` indexed by cell id (NaN for a cell without one). Returns the
/// long table `point`, `rank`, `cell_id`, `weight`.
#[pyfunction]
fn smooth<'py>(
    py: Python<'py>,
    points: &Bound<'py, PyAny>,
    centroids: &Bound<'py, PyAny>,
    tau_km: f64,
    top_k: usize,
) -> PyResult<Bound<'py, PyCapsule>> {
    let p = frame_from_arrow(points)?;
    let c = frame_from_arrow(centroids)?;
    let (lon, lat) = (f64_column(&p, "lon")?, f64_column(&p, "lat")?);
    let (clon, clat) = (
        f64_column(&c, "centroid_lon")?,
        f64_column(&c, "centroid_lat")?,
    );
    let centroids: Vec<Option<(f64, f64)>> = clon
        .iter()
        .zip(&clat)
        .map(|(&x, &y)| (x.is_finite() && y.is_finite()).then_some((x, y)))
        .collect();
    let params = SmoothingParams::default().tau_km(tau_km).top_k(top_k);
    let smoother =
        Smoother::new(&centroids, params).map_err(|e| ParamsError::new_err(e.to_string()))?;
    let targets: Vec<Vec<(u32, f64)>> = py.detach(|| {
        use rayon::prelude::*;
        lon.par_iter()
            .zip(lat.par_iter())
            .with_min_len(1024)
            .map(|(&x, &y)| smoother.targets(x, y))
            .collect()
    });
    let (mut point, mut rank, mut cell, mut weight) = (vec![], vec![], vec![], vec![]);
    for (i, t) in targets.iter().enumerate() {
        for (k, &(c, w)) in t.iter().enumerate() {
            point.push(i as i64);
            rank.push(k as i64);
            cell.push(i64::from(c));
            weight.push(w);
        }
    }
    let df = DataFrame::new(
        point.len(),
        vec![
            polars::prelude::Column::new("point".into(), point),
            polars::prelude::Column::new("rank".into(), rank),
            polars::prelude::Column::new("cell_id".into(), cell),
            polars::prelude::Column::new("weight".into(), weight),
        ],
    )
    .map_err(polars_err)?;
    frame_to_arrow(py, df)
}

/// The prediction metrics of `evaluate` (`prediction_metrics`): `table` has `true_lon`,
/// `true_lat`, `pred_lon`, `pred_lat`. Returns the statistics as JSON text.
#[pyfunction]
fn metrics(py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<String> {
    let t = frame_from_arrow(table)?;
    let truth: Vec<(f64, f64)> = f64_column(&t, "true_lon")?
        .into_iter()
        .zip(f64_column(&t, "true_lat")?)
        .collect();
    let predicted: Vec<(f64, f64)> = f64_column(&t, "pred_lon")?
        .into_iter()
        .zip(f64_column(&t, "pred_lat")?)
        .collect();
    let stats = py.detach(|| geocells::prediction_metrics(&truth, &predicted));
    serde_json::to_string(&stats).map_err(|e| GeocellsError::new_err(e.to_string()))
}

/// The extension module.
#[pymodule]
fn _geocells(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GeocellsError", m.py().get_type::<GeocellsError>())?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("ParamsError", m.py().get_type::<ParamsError>())?;
    m.add("OutputError", m.py().get_type::<OutputError>())?;
    m.add_class::<RunHandle>()?;
    m.add_function(wrap_pyfunction!(build, m)?)?;
    m.add_function(wrap_pyfunction!(check_output, m)?)?;
    m.add_function(wrap_pyfunction!(assign_once, m)?)?;
    m.add_function(wrap_pyfunction!(assign, m)?)?;
    m.add_function(wrap_pyfunction!(smooth, m)?)?;
    m.add_function(wrap_pyfunction!(metrics, m)?)?;
    Ok(())
}
