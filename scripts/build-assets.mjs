// Copies the front-end packages installed by npm into the web app's static
// folder. Run by `make setup`; the output is not committed.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src", "veritrail", "web", "static", "vendor");
const assets = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["chart.js/dist/chart.umd.min.js", "chart.umd.min.js"],
  ["leaflet/dist/leaflet.js", "leaflet.js"],
  ["leaflet/dist/leaflet.css", "leaflet.css"],
  ["topojson-client/dist/topojson-client.min.js", "topojson-client.min.js"],
  // The basemap of the facilities map: country outlines, served by Veritrail
  // itself, so the map needs no tile server.
  ["world-atlas/countries-110m.json", "countries-110m.json"],
];

mkdirSync(out, { recursive: true });
for (const [from, to] of assets) {
  copyFileSync(join(root, "node_modules", from), join(out, to));
}
console.log(`web assets: ${assets.length} file(s) built into ${out}`);
