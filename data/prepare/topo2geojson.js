// Usage (data/prepare/prepare_data.sh runs it): node topo2geojson.js TOPOJSON_CLIENT_JS TOPOLOGY.json OBJECT > out.geojson
// Converts one object of a TopoJSON topology to a GeoJSON FeatureCollection with topojson-client's
// feature() (what its topo2geo command does), keeping each feature's top-level "id" and properties.
const fs = require("fs");
const [clientJs, topoPath, object] = process.argv.slice(2);
const topojson = require(require("path").resolve(clientJs));
const topology = JSON.parse(fs.readFileSync(topoPath, "utf8"));
process.stdout.write(JSON.stringify(topojson.feature(topology, topology.objects[object])) + "\n");
