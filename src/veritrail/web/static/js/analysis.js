// The analysis dashboard: bar charts from the figures the page carries, and the facility map.
// No inline scripts (the CSP forbids them): charts read their figures from data-chart,
// the map fetches its points and the country outlines from this site.
"use strict";

(() => {
  const root = document.documentElement;
  const lang = root.lang || "en";
  const rtl = root.dir === "rtl";
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  const REGIME_COLOURS = ["#1f5fa8", "#b42318", "#1a7f37", "#c98a00", "#6b4fa0", "#0b7285", "#5b6475"];

  function drawChart(canvas) {
    let spec;
    try {
      spec = JSON.parse(canvas.dataset.chart || "{}");
    } catch (error) {
      console.error("chart figures unreadable", error);
      return;
    }
    if (!spec.labels || spec.labels.length === 0) {
      canvas.hidden = true;
      return;
    }
    const suffix = spec.percent ? " %" : "";
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s) => ({
          label: s.label,
          data: s.data,
          backgroundColor: s.colour,
          borderColor: s.colour,
          stack: s.stack || undefined,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        locale: lang,
        plugins: {
          legend: { position: "bottom", rtl: rtl, textDirection: rtl ? "rtl" : "ltr" },
          tooltip: {
            rtl: rtl,
            textDirection: rtl ? "rtl" : "ltr",
            callbacks: {
              title: (items) => (items.length ? (spec.titles || spec.labels)[items[0].dataIndex] : ""),
              label: (item) => `${item.dataset.label}: ${numbers.format(item.parsed.y)}${suffix}`,
            },
          },
        },
        scales: {
          x: { stacked: true, reverse: rtl },
          y: {
            stacked: true,
            beginAtZero: true,
            max: spec.percent ? 100 : undefined,
            position: rtl ? "right" : "left",
            title: { display: Boolean(spec.axis), text: spec.axis },
            ticks: { callback: (value) => numbers.format(value) + suffix },
          },
        },
      },
    });
    canvas.dataset.drawn = "true";
  }

  async function json(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      throw new Error(`${url}: ${response.status}`);
    }
    return response.json();
  }

  function popup(point) {
    const box = document.createElement("div");
    box.className = "facility-popup";
    const name = document.createElement("strong");
    name.textContent = point.name;
    name.dir = "auto";
    const state = document.createElement("div");
    state.textContent = `${point.state_name} (${point.state})`;
    const regime = document.createElement("div");
    regime.textContent = `${point.regime_name} · ${point.kind}`;
    box.append(name, state, regime);
    return box;
  }

  function legend(colours, names) {
    const control = L.control({ position: "bottomleft" });
    control.onAdd = () => {
      const list = document.createElement("ul");
      list.className = "map-legend";
      for (const [regime, colour] of colours) {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.backgroundColor = colour;
        item.append(swatch, document.createTextNode(names.get(regime) || regime));
        list.append(item);
      }
      return list;
    };
    return control;
  }

  // Rings that cross the antimeridian (Russia, Fiji) jump from 180° to -180°; Leaflet would
  // draw that jump as a line across the world. Keep each ring continuous instead.
  function unwrapRing(ring) {
    let shift = 0;
    return ring.map(([lon, lat], i) => {
      if (i > 0) {
        const previous = ring[i - 1][0];
        if (lon - previous > 180) {
          shift -= 360;
        } else if (previous - lon > 180) {
          shift += 360;
        }
      }
      return [lon + shift, lat];
    });
  }

  function unwrap(geometry) {
    if (geometry.type === "Polygon") {
      return { ...geometry, coordinates: geometry.coordinates.map(unwrapRing) };
    }
    if (geometry.type === "MultiPolygon") {
      return { ...geometry, coordinates: geometry.coordinates.map((polygon) => polygon.map(unwrapRing)) };
    }
    return geometry;
  }

  async function drawMap(element) {
    const map = L.map(element, {
      attributionControl: false,
      minZoom: 1,
      maxZoom: 12,
      zoomSnap: 0.25,
      worldCopyJump: false,
      maxBounds: [[-90, -220], [90, 230]],
    });
    map.fitBounds([[-56, -170], [78, 190]]);
    const [topology, points] = await Promise.all([json(element.dataset.basemap), json(element.dataset.points)]);
    const land = topojson.feature(topology, topology.objects.countries);
    land.features = land.features.map((feature) => ({ ...feature, geometry: unwrap(feature.geometry) }));
    L.geoJSON(land, {
      className: "country",
      interactive: false,
      style: { color: "#9aa6b8", weight: 0.6, fillColor: "#f4f1ea", fillOpacity: 1 },
    }).addTo(map);
    const colours = new Map();
    const names = new Map();
    const markers = [];
    for (const point of points) {
      if (!colours.has(point.regime)) {
        colours.set(point.regime, REGIME_COLOURS[colours.size % REGIME_COLOURS.length]);
        names.set(point.regime, point.regime_name);
      }
      const colour = colours.get(point.regime);
      markers.push(
        L.circleMarker([point.lat, point.lon], {
          className: "facility-marker",
          radius: 4,
          weight: 1,
          color: "#ffffff",
          fillColor: colour,
          fillOpacity: 0.85,
        }).bindPopup(popup(point)),
      );
    }
    L.featureGroup(markers).addTo(map);
    markers.forEach((marker, i) => {
      const element = marker.getElement();
      if (element) {
        element.setAttribute("data-id", points[i].id);
        element.setAttribute("data-state", points[i].state);
      }
    });
    if (colours.size) {
      legend(colours, names).addTo(map);
    }
    element.dataset.countries = String(land.features.length);
    element.dataset.markers = String(markers.length);
    element.dataset.drawn = "true";
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof Chart !== "undefined") {
      for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
        drawChart(canvas);
      }
    }
    const map = document.getElementById("facility-map");
    if (map && typeof L !== "undefined" && typeof topojson !== "undefined") {
      drawMap(map).catch((error) => {
        console.error("the facility map could not be drawn", error);
      });
    }
  });
})();
