//! A QGIS layer style for the cells: `cells.qml` next to `cells.geojson` makes QGIS open the
//! layer already styled (QGIS loads a same-named `.qml` as the layer's default style).
//!
//! Up to [`MAX_CATEGORIES`] cells, the style is a categorised renderer on `cell_id` with one
//! category per cell, filled with the colour the PNG preview ([`crate::output::map`]) gives that cell,
//! plus one grey "all other values" category. That default category keeps QGIS from sending
//! a filter `"cell_id" IN (<every id>)` to the data provider: OGR SQL (GDAL 3.6) rejects
//! `IN` lists longer than 4,997 values, and QGIS then tests that list against every feature
//! itself, which makes each redraw quadratic in the number of cells.
//!
//! Above [`MAX_CATEGORIES`] cells (the `pigeon` preset on millions of points makes 100,000+),
//! one category per cell would make a QML of 100+ MB that QGIS needs 10+ s to read each time
//! the layer is opened. The style is then a single-symbol renderer whose fill colour is data-defined by
//! [`COLOUR_EXPRESSION`], a deterministic pseudo-random colour computed from `cell_id` by QGIS
//! itself. Those colours are *not* the PNG preview's colours (QGIS expressions have no 64-bit
//! bit operations to reproduce [`crate::output::palette::colour_of`]'s SplitMix64), but they come from the same range
//! (90–239 per channel) and neighbouring ids get unrelated colours.
//!
//! Both forms outline the cells in thin dark grey and define a simple labeling on `cell_id`
//! that is switched off (`labelsEnabled="0"`; turn it on in QGIS with the layer's "Show Labels"
//! toggle).
//!
//! Format: the QML of QGIS 3.x as QGIS 3.22 LTR writes it (`<qgis version="3.22.16-…">`,
//! `styleCategories="Symbology|Labeling"`); symbol-layer properties are written both as an
//! `<Option type="Map">` and as the older `<prop k= v=>` elements, as 3.22 itself writes them.
//! Checked to load in QGIS 3.22.16 (see `docs/qgis.md`). The output depends only on the cells:
//! no timestamps, no random ids.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::output::atomic::write_atomic;
use crate::output::error::ExportError;
use crate::partition::cells::CellSet;

/// The QGIS version written into the style's `version` attribute.
const QGIS_VERSION: &str = "3.22.16-Białowieża";

/// Outline colour of every cell, the PNG preview's border colour
/// ([`crate::output::palette::BORDER`]) as RGBA.
const OUTLINE: &str = "60,60,60,255";

/// Outline width in millimetres.
const OUTLINE_MM: &str = "0.1";

/// The most cells that get one category each; above it the style is a single symbol with a
/// data-defined fill colour ([`COLOUR_EXPRESSION`]).
///
/// Measured with QGIS 3.22.16 on synthetic layers of square cells (`docs/qgis.md`):
/// `loadNamedStyle` of the categorised style took 0.8 s for 10,000 categories (11 MB of QML),
/// 1.2–2.6 s for 20,000 (23 MB), 4–6 s for 50,000 (57 MB) and 10–14 s for 100,000 (115 MB),
/// and QGIS pays that each time it opens the layer with its same-named `.qml`. 20,000 keeps
/// it at about two seconds.
pub const MAX_CATEGORIES: usize = 20_000;

/// Fill colour of the categorised style's "all other values" category (RGBA); no cell uses it
/// unless the layer's `cell_id` values were edited.
const OTHER_FILL: &str = "200,200,200,255";

/// Static fill colour of the single-symbol style (RGBA), used where [`COLOUR_EXPRESSION`]
/// gives no colour (a feature without `cell_id`).
const SINGLE_FILL: &str = "190,190,190,255";

/// The QGIS expression for the fill colour of the single-symbol style: a pseudo-random light
/// colour from `cell_id`, each channel in 90–239 like [`crate::output::map`]'s colours (but not the
/// same colours).
///
/// `x = (id · 69069 + 12345) mod p` and two squarings mod the prime `p = 67,108,859 < 2²⁶`
/// mix the id; the channels are base-150 digits of the result. Every intermediate value stays
/// below 2⁵³, so QGIS computes the same colours with its 64-bit integer arithmetic (an Integer
/// field) and with doubles (a Real field), for every `u32` id.
pub const COLOUR_EXPRESSION: &str = "with_variable('x', (\"cell_id\" * 69069 + 12345) % 67108859, \
     with_variable('y', (@x * @x + 1013) % 67108859, \
     with_variable('z', (@y * @y + 7) % 67108859, \
     color_rgb(90 + @z % 150, 90 + (@z // 150) % 150, 90 + (@z // 22500) % 150))))";

/// Escapes text for an XML attribute value in double quotes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all (control characters) are dropped;
            // tab, newline and carriage return are kept as character references.
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", u32::from(ch));
            }
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One fill symbol layer: `color` as `r,g,b,a`; `colour_expression`, if any, data-defines the
/// fill colour (QGIS property `fillColor`).
fn fill_symbol(out: &mut String, name: &str, color: &str, colour_expression: Option<&str>) {
    let props = [
        ("color", color),
        ("joinstyle", "bevel"),
        ("outline_color", OUTLINE),
        ("outline_style", "solid"),
        ("outline_width", OUTLINE_MM),
        ("outline_width_unit", "MM"),
        ("style", "solid"),
    ];
    let _ = writeln!(
        out,
        r#"      <symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">"#
    );
    out.push_str(r#"        <layer class="SimpleFill" enabled="1" locked="0" pass="0">"#);
    out.push('\n');
    out.push_str("          <Option type=\"Map\">\n");
    for (k, v) in props {
        let _ = writeln!(
            out,
            r#"            <Option type="QString" name="{k}" value="{v}"/>"#
        );
    }
    out.push_str("          </Option>\n");
    for (k, v) in props {
        let _ = writeln!(out, r#"          <prop k="{k}" v="{v}"/>"#);
    }
    if let Some(expr) = colour_expression {
        // As QGIS 3.22 writes a data-defined property (type 3: expression).
        out.push_str(concat!(
            "          <data_defined_properties>\n",
            "            <Option type=\"Map\">\n",
            "              <Option type=\"QString\" name=\"name\" value=\"\"/>\n",
            "              <Option type=\"Map\" name=\"properties\">\n",
            "                <Option type=\"Map\" name=\"fillColor\">\n",
            "                  <Option type=\"bool\" name=\"active\" value=\"true\"/>\n",
        ));
        let _ = writeln!(
            out,
            r#"                  <Option type="QString" name="expression" value="{}"/>"#,
            esc(expr)
        );
        out.push_str(concat!(
            "                  <Option type=\"int\" name=\"type\" value=\"3\"/>\n",
            "                </Option>\n",
            "              </Option>\n",
            "              <Option type=\"QString\" name=\"type\" value=\"collection\"/>\n",
            "            </Option>\n",
            "          </data_defined_properties>\n",
        ));
    }
    out.push_str("        </layer>\n      </symbol>\n");
}

/// The labeling section: `cell_id` at a point inside each polygon, with a white buffer.
const LABELING: &str = r#"  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="cell_id" isExpression="0" fontFamily="Sans Serif" fontSize="8" fontSizeUnit="Point" fontWeight="50" fontItalic="0" fontUnderline="0" fontStrikeout="0" textColor="30,30,30,255" textOpacity="1" namedStyle="Regular" blendMode="0" multilineHeight="1" allowHtml="0" capitalization="0" textOrientation="horizontal" useSubstitutions="0">
        <text-buffer bufferDraw="1" bufferSize="0.8" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="0.8" bufferNoFill="1" bufferJoinStyle="128" bufferBlendMode="0"/>
        <background shapeDraw="0"/>
        <shadow shadowDraw="0"/>
      </text-style>
      <text-format wrapChar="" multilineAlign="3" formatNumbers="0" decimals="3" plussign="0"/>
      <placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0" dist="0" distUnits="MM" offsetType="0" quadOffset="4" xOffset="0" yOffset="0" offsetUnits="MM" rotationAngle="0" priority="5" polygonPlacementFlags="2" placementFlags="10"/>
      <rendering drawLabels="1" obstacle="1" obstacleFactor="1" obstacleType="1" displayAll="0" upsidedownLabels="0" labelPerPart="0" mergeLines="0" minFeatureSize="0" limitNumLabels="0" maxNumLabels="2000" scaleVisibility="0" scaleMin="0" scaleMax="0" fontLimitPixelSize="0" fontMinPixelSize="0" fontMaxPixelSize="10000" zIndex="0" unplacedVisibility="0"/>
    </settings>
  </labeling>
"#;

/// The style of `cells` as QGIS QML text, deterministic: the same cells give the same text.
///
/// Up to [`MAX_CATEGORIES`] cells: a categorised renderer on `cell_id`, one category per cell
/// (in `cell_id` order, labelled `"<cell_id> <name> (<country>)"`) filled with the PNG
/// preview's colour of that cell, then a grey "all other values" category. Above it: a single
/// symbol whose fill colour is [`COLOUR_EXPRESSION`]. Both with thin dark-grey outlines and
/// labels on `cell_id` defined but disabled.
pub fn qml_string(cells: &CellSet) -> String {
    qml_string_with(cells, MAX_CATEGORIES)
}

/// [`qml_string`] with the category limit as a parameter: categorised up to `max_categories`
/// cells, a single symbol with a data-defined colour above.
pub(crate) fn qml_string_with(cells: &CellSet, max_categories: usize) -> String {
    let categorised = cells.cells.len() <= max_categories;
    // About 1.2 kB per cell when categorised.
    let per_cell = if categorised { 1300 } else { 0 };
    let mut out = String::with_capacity(8192 + per_cell * cells.cells.len());
    out.push_str("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n");
    let _ = writeln!(
        out,
        r#"<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Labeling" labelsEnabled="0">"#
    );
    if categorised {
        categorised_renderer(&mut out, cells);
    } else {
        out.push_str(
            r#"  <renderer-v2 type="singleSymbol" enableorderby="0" symbollevels="0" forceraster="0">"#,
        );
        out.push_str("\n    <symbols>\n");
        fill_symbol(&mut out, "0", SINGLE_FILL, Some(COLOUR_EXPRESSION));
        out.push_str("    </symbols>\n    <rotation/>\n    <sizescale/>\n  </renderer-v2>\n");
    }
    out.push_str(LABELING);
    out.push_str("  <blendMode>0</blendMode>\n");
    out.push_str("  <featureBlendMode>0</featureBlendMode>\n");
    out.push_str("  <layerGeometryType>2</layerGeometryType>\n");
    out.push_str("</qgis>\n");
    out
}

/// The categorised `<renderer-v2>`: one category per cell, then "all other values".
fn categorised_renderer(out: &mut String, cells: &CellSet) {
    out.push_str(
        r#"  <renderer-v2 type="categorizedSymbol" attr="cell_id" enableorderby="0" symbollevels="0" forceraster="0">"#,
    );
    out.push_str("\n    <categories>\n");
    for (i, c) in cells.cells.iter().enumerate() {
        let label = if c.country_name.is_empty() {
            format!("{} {}", c.id, c.name)
        } else {
            format!("{} {} ({})", c.id, c.name, c.country_name)
        };
        let _ = writeln!(
            out,
            r#"      <category render="true" value="{}" label="{}" symbol="{i}"/>"#,
            c.id,
            esc(&label)
        );
    }
    // The default category (empty value): with it, and every category rendered, QGIS puts no
    // `IN (<every id>)` filter on the layer (see the module docs).
    let other = cells.cells.len();
    let _ = writeln!(
        out,
        r#"      <category render="true" value="" label="all other values" symbol="{other}"/>"#
    );
    out.push_str("    </categories>\n    <symbols>\n");
    for (i, c) in cells.cells.iter().enumerate() {
        let [r, g, b] = crate::output::palette::colour_of(c.id);
        fill_symbol(out, &i.to_string(), &format!("{r},{g},{b},255"), None);
    }
    fill_symbol(out, &other.to_string(), OTHER_FILL, None);
    out.push_str("    </symbols>\n  </renderer-v2>\n");
}

/// Writes the style of `cells` ([`qml_string`]) to `path` (atomically), normally `cells.qml`
/// next to `cells.geojson` so that QGIS applies it when the layer is opened. The run id goes
/// in an XML comment after the document type line.
///
/// # Errors
/// [`ExportError`] when the file cannot be written.
pub fn write_qml(cells: &CellSet, path: &Path, run_id: &str) -> Result<(), ExportError> {
    let mut text = qml_string(cells);
    let line = text.find('\n').map_or(0, |i| i + 1);
    text.insert_str(
        line,
        &format!("<!-- {}: {run_id} -->\n", crate::output::dir::RUN_ID_KEY),
    );
    write_atomic(path, |w| {
        w.write_all(text.as_bytes()).map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::area::Area;
    use crate::input::levels::Level;
    use crate::partition::cells::{Cell, CellOrigin};
    use geo_types::{MultiPolygon, Rect, coord};

    /// Three unit squares in a row, one cell each; names that need escaping.
    fn cell_set() -> CellSet {
        let names = ["Saint-Étienne & <Loire>", "\"Quoted\" 'name'", "plain"];
        let origins = [CellOrigin::Admin, CellOrigin::Optics(0), CellOrigin::Bisect];
        let cells = names
            .iter()
            .zip(origins)
            .enumerate()
            .map(|(i, (name, origin))| {
                let x = i as f64;
                let sq = Rect::new(coord! {x: x, y: 0.0}, coord! {x: x + 1.0, y: 1.0}).to_polygon();
                let area = Area {
                    level: Level::Admin2,
                    code: format!("A{i}"),
                    name: name.to_string(),
                    admin1_code: "P".into(),
                    admin1_name: "P".into(),
                    country_code: "X".into(),
                    country_name: "Xland".into(),
                    geometry: crate::geom::repair::orient(MultiPolygon::new(vec![sq])),
                };
                Cell::assemble(
                    i as u32,
                    0,
                    origin,
                    &area,
                    vec![i as u32],
                    area.geometry.clone(),
                    [(x + 0.5, 0.5)].into_iter(),
                )
            })
            .collect();
        CellSet { cells }
    }

    /// Checks that `xml` is well-formed enough for QGIS's DOM parser: balanced tags, one root,
    /// quoted attributes without `<`, and only the predefined or numeric entities.
    fn check_well_formed(xml: &str) -> Result<(), String> {
        fn entities_ok(s: &str) -> Result<(), String> {
            let mut rest = s;
            while let Some(i) = rest.find('&') {
                let tail = &rest[i + 1..];
                let end = tail.find(';').ok_or_else(|| format!("bare & in {s:?}"))?;
                let name = &tail[..end];
                let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                    || name
                        .strip_prefix('#')
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
                if !ok {
                    return Err(format!("bad entity &{name}; in {s:?}"));
                }
                rest = &tail[end + 1..];
            }
            Ok(())
        }
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut rest = xml;
        while let Some(i) = rest.find('<') {
            entities_ok(&rest[..i])?;
            if stack.is_empty() && !rest[..i].trim().is_empty() {
                return Err(format!("text outside the root: {:?}", &rest[..i]));
            }
            rest = &rest[i..];
            if let Some(r) = rest.strip_prefix("<!--") {
                rest = &r[r.find("-->").ok_or("unclosed comment")? + 3..];
            } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<?") {
                if roots > 0 || !stack.is_empty() {
                    return Err("prolog after the root element".into());
                }
                rest = &rest[rest.find('>').ok_or("unclosed prolog")? + 1..];
            } else if let Some(r) = rest.strip_prefix("</") {
                let end = r.find('>').ok_or("unclosed end tag")?;
                let name = r[..end].trim_end();
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
                rest = &r[end + 1..];
            } else {
                let r = &rest[1..];
                let name_end = r
                    .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .ok_or("unclosed start tag")?;
                let name = &r[..name_end];
                if name.is_empty() {
                    return Err("empty tag name".into());
                }
                if stack.is_empty() {
                    roots += 1;
                }
                let mut r = &r[name_end..];
                loop {
                    r = r.trim_start();
                    if let Some(t) = r.strip_prefix("/>") {
                        r = t;
                        break;
                    }
                    if let Some(t) = r.strip_prefix('>') {
                        stack.push(name);
                        r = t;
                        break;
                    }
                    let eq = r
                        .find('=')
                        .ok_or_else(|| format!("attribute in <{name}>"))?;
                    let attr = r[..eq].trim();
                    if attr.is_empty() || attr.contains(|c: char| c.is_whitespace()) {
                        return Err(format!("bad attribute name {attr:?} in <{name}>"));
                    }
                    let v = r[eq + 1..].trim_start();
                    let q = v.chars().next().filter(|&q| q == '"' || q == '\'');
                    let q = q.ok_or_else(|| format!("unquoted {attr} in <{name}>"))?;
                    let close = v[1..].find(q).ok_or("unclosed attribute value")?;
                    let value = &v[1..=close];
                    if value.contains('<') {
                        return Err(format!("< in attribute {attr} of <{name}>"));
                    }
                    entities_ok(value)?;
                    r = &v[1 + close + 1..];
                }
                rest = r;
            }
        }
        entities_ok(rest)?;
        if !rest.trim().is_empty() {
            return Err(format!("text after the root: {rest:?}"));
        }
        match (stack.last(), roots) {
            (Some(open), _) => Err(format!("<{open}> is never closed")),
            (None, 1) => Ok(()),
            (None, n) => Err(format!("{n} root elements")),
        }
    }

    #[test]
    fn style_has_one_category_per_cell_in_the_preview_colours() {
        let cells = cell_set();
        let qml = qml_string(&cells);
        check_well_formed(&qml).expect("well-formed XML");
        assert!(qml.starts_with("<!DOCTYPE qgis"));
        assert!(qml.contains(r#"<renderer-v2 type="categorizedSymbol" attr="cell_id""#));
        // One category per cell, plus "all other values" (empty value) with its own symbol.
        assert_eq!(qml.matches("<category ").count(), cells.cells.len() + 1);
        assert_eq!(
            qml.matches("<symbol type=\"fill\"").count(),
            cells.cells.len() + 1
        );
        assert!(qml.contains(&format!(
            r#"<category render="true" value="" label="all other values" symbol="{}"/>"#,
            cells.cells.len()
        )));
        assert!(!qml.contains("data_defined_properties"));
        // Every category: value = cell id, its symbol filled with the PNG preview's colour.
        for c in &cells.cells {
            let cat = format!(r#"<category render="true" value="{}" "#, c.id);
            let line = qml
                .lines()
                .find(|l| l.trim_start().starts_with(&cat))
                .expect("category line");
            let symbol = line
                .split("symbol=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .expect("symbol attribute");
            let [r, g, b] = crate::output::palette::colour_of(c.id);
            let start = qml
                .find(&format!(r#"<symbol type="fill" name="{symbol}" "#))
                .expect("symbol");
            let body = &qml[start..start + qml[start..].find("</symbol>").expect("end")];
            assert!(body.contains(&format!(r#"<prop k="color" v="{r},{g},{b},255"/>"#)));
            assert!(body.contains(&format!(
                r#"<Option type="QString" name="color" value="{r},{g},{b},255"/>"#
            )));
            assert!(body.contains(r#"<prop k="outline_color" v="60,60,60,255"/>"#));
        }
        // Names are escaped, not dropped.
        assert!(qml.contains("label=\"0 Saint-Étienne &amp; &lt;Loire&gt; (Xland)\""));
        assert!(qml.contains("label=\"1 &quot;Quoted&quot; &apos;name&apos; (Xland)\""));
        // Labels are defined on cell_id but off.
        assert!(qml.contains(r#"labelsEnabled="0""#));
        assert!(!qml.contains(r#"labelsEnabled="1""#));
        assert!(qml.contains(r#"<text-style fieldName="cell_id" isExpression="0""#));
        // Deterministic.
        assert_eq!(qml, qml_string(&cells.clone()));
    }

    #[test]
    fn above_the_limit_the_style_is_one_symbol_coloured_by_an_expression_on_cell_id() {
        let cells = cell_set();
        // At the limit: still categorised.
        let at = qml_string_with(&cells, cells.cells.len());
        assert!(at.contains(r#"<renderer-v2 type="categorizedSymbol""#));
        assert_eq!(at, qml_string(&cells));

        let qml = qml_string_with(&cells, cells.cells.len() - 1);
        check_well_formed(&qml).expect("well-formed XML");
        assert!(qml.starts_with("<!DOCTYPE qgis"));
        assert!(qml.contains(r#"<renderer-v2 type="singleSymbol""#));
        assert!(!qml.contains("categorizedSymbol"));
        assert!(!qml.contains("<category"));
        assert_eq!(qml.matches("<symbol type=\"fill\"").count(), 1);
        // The fill colour is data-defined by the (escaped) expression on cell_id, active.
        let ddp = &qml[qml
            .find("<data_defined_properties>")
            .expect("data-defined properties")..];
        let ddp = &ddp[..ddp.find("</data_defined_properties>").expect("end")];
        assert!(ddp.contains(r#"<Option type="Map" name="fillColor">"#));
        assert!(ddp.contains(r#"<Option type="bool" name="active" value="true"/>"#));
        assert!(ddp.contains(r#"<Option type="int" name="type" value="3"/>"#));
        let expr = format!(
            r#"<Option type="QString" name="expression" value="{}"/>"#,
            esc(COLOUR_EXPRESSION)
        );
        assert!(ddp.contains(&expr));
        assert!(ddp.contains("&quot;cell_id&quot;"));
        assert!(COLOUR_EXPRESSION.contains("\"cell_id\""));
        // Outline and labels as in the categorised form.
        assert!(qml.contains(r#"<prop k="outline_color" v="60,60,60,255"/>"#));
        assert!(qml.contains(r#"<prop k="outline_width" v="0.1"/>"#));
        assert!(qml.contains(r#"labelsEnabled="0""#));
        assert!(!qml.contains(r#"labelsEnabled="1""#));
        assert!(qml.contains(r#"<text-style fieldName="cell_id" isExpression="0""#));
        // Small: it does not grow with the cells. Deterministic.
        assert!(qml.len() < 8192, "{} bytes", qml.len());
        assert_eq!(qml, qml_string_with(&cells.clone(), cells.cells.len() - 1));
    }

    /// The prime modulus in [`COLOUR_EXPRESSION`].
    const P: u64 = 67_108_859;

    /// [`COLOUR_EXPRESSION`] in Rust, for the ids' colours as QGIS computes them.
    fn expression_colour(id: u32) -> [u32; 3] {
        let x = (u64::from(id) * 69_069 + 12_345) % P;
        let y = (x * x + 1013) % P;
        let z = (y * y + 7) % P;
        let z = z as u32;
        [90 + z % 150, 90 + (z / 150) % 150, 90 + (z / 22_500) % 150]
    }

    #[test]
    fn the_colour_expression_gives_distinct_light_colours() {
        for k in [
            "69069 + 12345",
            "67108859",
            "@x * @x + 1013",
            "@y * @y + 7",
            "22500",
        ] {
            assert!(COLOUR_EXPRESSION.contains(k), "{k}");
        }
        // Largest intermediate values are exact in doubles (< 2^53) for every u32 id.
        const _: () = assert!(u32::MAX as u64 * 69_069 + 12_345 < 1 << 53);
        const _: () = assert!((P - 1) * (P - 1) + 1013 < 1 << 53);
        // Values QGIS 3.22.16 gave for this expression (QgsExpression.evaluate, see
        // docs/qgis.md).
        assert_eq!(expression_colour(0), [172, 204, 182]);
        assert_eq!(expression_colour(1), [166, 124, 165]);
        assert_eq!(expression_colour(2), [156, 136, 231]);
        assert_eq!(expression_colour(3761), [224, 196, 170]);
        assert_eq!(expression_colour(99_999), [230, 158, 110]);
        assert_eq!(expression_colour(u32::MAX), [126, 172, 151]);
        // Neighbouring ids differ; colours are nearly all distinct.
        let colours: Vec<_> = (0..10_000).map(expression_colour).collect();
        assert!(colours.windows(2).all(|w| w[0] != w[1]));
        let distinct: std::collections::HashSet<_> = colours.iter().collect();
        assert!(distinct.len() > 9_950, "{}", distinct.len());
        assert!(colours.iter().flatten().all(|&c| (90..240).contains(&c)));
    }

    #[test]
    fn the_checker_rejects_broken_xml() {
        for bad in [
            "<a><b></a></b>",
            "<a x=\"1\">",
            "<a x=1/>",
            "<a x=\"<\"/>",
            "<a>&nbsp;</a>",
            "<a>x & y</a>",
            "<a/><b/>",
        ] {
            assert!(check_well_formed(bad).is_err(), "{bad}");
        }
        assert!(check_well_formed("<!DOCTYPE x>\n<a k='v'><b/>t &amp; u</a>\n").is_ok());
    }

    #[test]
    fn write_qml_writes_the_string() {
        let cells = cell_set();
        let dir = std::env::temp_dir().join(format!("geocells-qml-{}", std::process::id()));
        let path = dir.join("cells.qml");
        write_qml(&cells, &path, "0123456789abcdef").expect("write");
        let back = std::fs::read_to_string(&path).expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        // The style, with the run id as a comment on line 2, still well-formed.
        let text = qml_string(&cells);
        let (first, rest) = text.split_at(text.find('\n').expect("line") + 1);
        assert_eq!(
            back,
            format!("{first}<!-- geocells:run_id: 0123456789abcdef -->\n{rest}")
        );
        assert!(check_well_formed(&back).is_ok());
    }

    #[test]
    fn the_outline_is_the_preview_border_colour() {
        let [r, g, b] = crate::output::palette::BORDER;
        assert_eq!(OUTLINE, format!("{r},{g},{b},255"));
    }
}
