#!/usr/bin/env python3
"""Check that cells.qml loads in QGIS and styles cells.geojson; render the layer to a PNG.

cells.qml has two forms (geocells::qml): categorised on cell_id (one category per cell, plus
"all other values") up to geocells::qml::MAX_CATEGORIES cells, and above that a single
symbol whose fill colour is a data-defined expression on cell_id. Both are checked.

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
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsGeometry,
    QgsPointXY,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsRenderContext,
    QgsSymbolLayer,
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
    # Without the .qml, QGIS gives a single symbol too, but not one with a data-defined colour.
    if auto == "singleSymbol":
        auto_ok = fill_colour_property(layer.renderer()).isActive()
    else:
        auto_ok = auto == "categorizedSymbol"
    if not auto_ok:
        fail("cells.qml was not applied as the default style")

    # 2. Loading the style explicitly.
    t = time.perf_counter()
    msg, ok = layer.loadNamedStyle(qml)
    print(f"loadNamedStyle({qml}): ok={ok} ({time.perf_counter() - t:.2f} s) {msg!r}")
    if not ok:
        fail("loadNamedStyle failed")

    r = layer.renderer()
    if r.type() == "categorizedSymbol":
        check_categorised(layer, r, n)
    elif r.type() == "singleSymbol":
        colours = check_single_symbol(layer, r, n)
    else:
        fail(f"renderer is {r.type()!r}, not 'categorizedSymbol' or 'singleSymbol'")

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
        if r.type() == "singleSymbol":
            probe_pixels(layer, ms, img, colours)
    return True


def check_categorised(layer, r, n):
    """One category per cell_id, plus "all other values"; no IN filter; every feature styled."""
    if not isinstance(r, QgsCategorizedSymbolRenderer):
        r = QgsCategorizedSymbolRenderer.convertFromRenderer(r)
    cats = r.categories()
    print(f"renderer categorizedSymbol on {r.classAttribute()!r}: {len(cats)} categories, {n} features")
    if r.classAttribute() != "cell_id":
        fail("not classified on cell_id")
    other = [c for c in cats if c.value() in ("", None)]
    cell_cats = [c for c in cats if c.value() not in ("", None)]
    if len(other) != 1 or len(cell_cats) != n:
        fail(f"{len(cell_cats)} cell categories for {n} features, {len(other)} 'all other values'")
    # With the default category active, QGIS asks the provider for every feature: no
    # '"cell_id" IN (...)' list, which OGR SQL rejects beyond 4,997 values.
    flt = r.filter(layer.fields())
    print(f"'all other values' category present; renderer filter {flt!r}")
    if flt:
        fail("the renderer filters the features (IN list)")

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
    values = {str(c.value()) for c in cell_cats}
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


def expected_colour(cell_id):
    """geocells::qml::COLOUR_EXPRESSION in Python (exact integer arithmetic)."""
    p = 67108859
    x = (cell_id * 69069 + 12345) % p
    y = (x * x + 1013) % p
    z = (y * y + 7) % p
    return (90 + z % 150, 90 + (z // 150) % 150, 90 + (z // 22500) % 150)


def fill_colour_property(r):
    """The data-defined fill colour of a single-symbol renderer's first symbol layer."""
    return r.symbol().symbolLayer(0).dataDefinedProperties().property(QgsSymbolLayer.PropertyFillColor)


def check_single_symbol(layer, r, n):
    """One fill symbol whose colour is an active data-defined expression on cell_id; evaluates
    it for every feature. Returns {cell_id: (r, g, b)}."""
    sym = r.symbol()
    fill = sym.symbolLayer(0)
    prop = fill_colour_property(r)
    expr = prop.expressionString()
    print(f"renderer singleSymbol: {sym.symbolLayerCount()} symbol layer {fill.layerType()!r}, "
          f"static fill {fill.color().name()}, outline {fill.strokeColor().name()} "
          f"{fill.strokeWidth()} {QgsUnitTypes.toAbbreviatedString(fill.strokeWidthUnit())}")
    print(f"data-defined fillColor: active={prop.isActive()}, expression {expr!r}")
    if not prop.isActive():
        fail("the data-defined fill colour is not active")
    if '"cell_id"' not in expr:
        fail("the fill colour expression does not use cell_id")

    ctx = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    prop.prepare(ctx)
    t = time.perf_counter()
    colours = {}
    wrong = 0
    for f in layer.getFeatures():
        ctx.setFeature(f)
        value, ok = prop.valueAsColor(ctx)
        if not ok or not value.isValid():
            fail(f"no colour for cell_id {f['cell_id']}")
        rgb = (value.red(), value.green(), value.blue())
        colours[f["cell_id"]] = rgb
        wrong += rgb != expected_colour(f["cell_id"])
    print(f"evaluated the fill colour for {len(colours)} features ({time.perf_counter() - t:.2f} s): "
          f"{len(set(colours.values()))} distinct colours, {wrong} differ from the formula")
    if len(colours) != n:
        fail(f"{len(colours)} distinct cell_id values for {n} features")
    if wrong:
        fail("colours differ from expected_colour()")
    ids = sorted(colours)[:2]
    a, b = (colours[i] for i in ids)
    print(f"cell_id {ids[0]} -> rgb{a}, cell_id {ids[1]} -> rgb{b}")
    if a == b:
        fail("two cell_ids get the same colour")
    return colours


def probe_pixels(layer, ms, img, colours):
    """Reads the rendered colour in the middle of the two largest cells on the image and
    compares it with the evaluated expression."""
    m2p = ms.mapToPixel()
    ext = QgsGeometry.fromRect(ms.extent())
    big = []
    for f in layer.getFeatures():
        g = f.geometry().intersection(ext)
        if not g.isEmpty():
            big.append((g.area(), f["cell_id"], g))
    big.sort(key=lambda t: (-t[0], t[1]))
    if len(big) < 2:
        fail("fewer than two cells in the rendered extent")
    for _, cid, g in big[:2]:
        pt, _ = g.poleOfInaccessibility(ms.extent().width() / 10000)
        px = m2p.transform(QgsPointXY(pt.asPoint()))
        c = img.pixelColor(round(px.x()), round(px.y()))
        got = (c.red(), c.green(), c.blue())
        print(f"rendered pixel of cell_id {cid}: rgb{got}, expression rgb{colours[cid]}")
        if max(abs(u - v) for u, v in zip(got, colours[cid])) > 2:
            fail(f"cell_id {cid} is drawn in another colour")


def gdal_version():
    try:
        from osgeo import gdal
        return gdal.__version__
    except ImportError:
        return "unknown (python3-gdal not installed)"


if __name__ == "__main__":
    main()
