#!/usr/bin/env python3
"""Check that cells.qml loads in QGIS and styles cells.geojson; render the layer to a PNG.

Headless (PyQGIS, no desktop):

    QT_QPA_PLATFORM=offscreen python3 docs/qgis/check_style.py OUT_DIR [--png FILE] [--extent W,S,E,N]

OUT_DIR holds cells.geojson and cells.qml (geocells::qml::write_qml). Exits non-zero when a
check fails. Needs the PyQGIS of a QGIS 3 install (Debian: apt-get install qgis python3-qgis);
use the system Python that QGIS was built for (/usr/bin/python3 on Debian).
"""

import argparse
import os
import sys
import time

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsRenderContext,
    QgsUnitTypes,
    QgsVectorLayer,
    Qgis,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default="out", help="directory with cells.geojson and cells.qml")
    ap.add_argument("--png", default=None, help="render the styled layer to this PNG")
    ap.add_argument("--extent", default="-11,35,20,60", help="W,S,E,N in degrees for --png (default: Western Europe)")
    ap.add_argument("--width", type=int, default=1600, help="PNG width in pixels")
    args = ap.parse_args()

    geojson = os.path.join(args.dir, "cells.geojson")
    qml = os.path.join(args.dir, "cells.qml")
    for f in (geojson, qml):
        if not os.path.isfile(f):
            fail(f"{f} not found")

    app = QgsApplication([], False)
    app.initQgis()
    print(f"QGIS {Qgis.QGIS_VERSION}, GDAL {gdal_version()}")
    ok = check(args, geojson, qml)
    # Every layer, renderer and render job is gone by now: exiting earlier crashes PyQGIS.
    app.exitQgis()
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


def check(args, geojson, qml):
    """Runs the checks; exits with status 1 on the first failure."""
    # 1. Opening the file: QGIS applies the same-named .qml as the layer's default style.
    t = time.perf_counter()
    layer = QgsVectorLayer(geojson, "cells", "ogr")
    if not layer.isValid():
        fail(f"{geojson} does not open as an OGR layer")
    n = layer.featureCount()
    print(f"opened {geojson}: {n} features, provider {layer.providerType()}, "
          f"{time.perf_counter() - t:.2f} s")
    auto = layer.renderer().type() if layer.renderer() else None
    print(f"default style applied on open: renderer {auto!r}")
    if auto != "categorizedSymbol":
        fail("cells.qml was not applied as the default style")

    # 2. Loading the style explicitly.
    t = time.perf_counter()
    msg, ok = layer.loadNamedStyle(qml)
    print(f"loadNamedStyle({qml}): ok={ok} ({time.perf_counter() - t:.2f} s) {msg!r}")
    if not ok:
        fail("loadNamedStyle failed")

    r = layer.renderer()
    if r.type() != "categorizedSymbol":
        fail(f"renderer is {r.type()!r}, not 'categorizedSymbol'")
    if not isinstance(r, QgsCategorizedSymbolRenderer):
        r = QgsCategorizedSymbolRenderer.convertFromRenderer(r)
    cats = r.categories()
    print(f"renderer categorizedSymbol on {r.classAttribute()!r}: {len(cats)} categories, {n} features")
    if r.classAttribute() != "cell_id":
        fail("not classified on cell_id")
    if len(cats) != n:
        fail(f"{len(cats)} categories for {n} features")

    # Every feature has its own category (values are the cell ids) and a symbol.
    ids = set()
    ctx = QgsRenderContext()
    r.startRender(ctx, layer.fields())
    unstyled = 0
    for f in layer.getFeatures():
        ids.add(str(f["cell_id"]))
        if r.symbolForFeature(f, ctx) is None:
            unstyled += 1
    r.stopRender(ctx)
    values = {str(c.value()) for c in cats}
    if values != ids:
        fail(f"category values differ from cell_id values: {len(values ^ ids)} differ")
    if unstyled:
        fail(f"{unstyled} features get no symbol")
    c0 = cats[0]
    fill = c0.symbol().symbolLayer(0)
    print(f"category 0: value {c0.value()!r}, label {c0.label()!r}, fill {fill.color().name()}, "
          f"outline {fill.strokeColor().name()} {fill.strokeWidth()} "
          f"{QgsUnitTypes.toAbbreviatedString(fill.strokeWidthUnit())}")
    print("every feature has its own category and a symbol")

    # Labels: defined on cell_id, switched off.
    lab = layer.labeling()
    if lab is None:
        fail("no labeling section")
    field = lab.settings().fieldName
    print(f"labeling {lab.type()!r} on {field!r}, labelsEnabled={layer.labelsEnabled()}")
    if layer.labelsEnabled():
        fail("labels are enabled")
    if field != "cell_id":
        fail(f"labels on {field!r}, not cell_id")

    # 3. Render.
    if args.png:
        w, s, e, nn = (float(v) for v in args.extent.split(","))
        ms = QgsMapSettings()
        ms.setLayers([layer])
        ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
        ms.setBackgroundColor(QColor(214, 230, 242))
        height = round(args.width * (nn - s) / (e - w))
        ms.setOutputSize(QSize(args.width, height))
        ms.setExtent(QgsRectangle(w, s, e, nn))
        t = time.perf_counter()
        job = QgsMapRendererSequentialJob(ms)
        job.start()
        job.waitForFinished()
        img = job.renderedImage()
        if not img.save(args.png, "png"):
            fail(f"cannot write {args.png}")
        print(f"rendered {args.width}x{height} px, extent {args.extent} to {args.png} "
              f"({time.perf_counter() - t:.2f} s)")
    return True


def gdal_version():
    try:
        from osgeo import gdal
        return gdal.__version__
    except ImportError:
        return "unknown (python3-gdal not installed)"


if __name__ == "__main__":
    main()
