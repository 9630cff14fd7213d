// Consumption chart on uPlot: gaps stay gaps (spanGaps false), drag to zoom, pan and
// reset from buttons or the keyboard, an optional second axis for temperature and an
// expected-consumption line with its band.

import uPlot from "../vendor/uPlot.esm.js";

export const COLOURS = {
  consumption: "#6a2c91",
  lastYear: "#6b6b6b",
  expected: "#a34700",
  band: "rgba(163, 71, 0, 0.14)",
  observed: "#0b5cad",
  forecast: "#0b5cad",
};

const london = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Europe/London");
const kwh = (_, v) => (v === null || v === undefined ? "–" : `${v.toLocaleString("en-GB", { maximumFractionDigits: 2 })} kWh`);
const celsius = (_, v) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} °C`);

function line(label, stroke, extra = {}) {
  return { label, stroke, width: 1.5, spanGaps: false, scale: "kWh", value: kwh, points: { show: false }, ...extra };
}

/**
 * Draw into `container`. `layers` = {series, lastYear?, expected?, temperature?};
 * `onRange(min, max, zoomed)` is told whenever the visible x range changes.
 */
export function consumptionChart(container, layers, onRange = () => {}) {
  const { series, lastYear, expected, temperature } = layers;
  const data = [series.x, series.y];
  const lines = [{}, line("Consumption", COLOURS.consumption, { fill: "rgba(106, 44, 145, 0.08)", width: 2 })];
  const bands = [];
  if (lastYear) {
    data.push(lastYear);
    lines.push(line("Same period last year", COLOURS.lastYear, { dash: [6, 4] }));
  }
  if (expected) {
    if (expected.high.some((v) => v !== null)) {
      const high = data.push(expected.high) - 1;
      lines.push(line("Expected (upper)", "transparent", { width: 0 }));
      const low = data.push(expected.low) - 1;
      lines.push(line("Expected (lower)", "transparent", { width: 0 }));
      bands.push({ series: [high, low], fill: COLOURS.band });
    }
    data.push(expected.mid);
    lines.push(line("Expected", COLOURS.expected, { dash: [2, 3], width: 2 }));
  }
  const axes = [
    { stroke: "#333", grid: { stroke: "#e4e4e4" } },
    { scale: "kWh", label: "kWh", stroke: "#333", grid: { stroke: "#e4e4e4" }, size: 64 },
  ];
  if (temperature) {
    data.push(temperature.observed, temperature.forecast);
    lines.push(
      { label: "Temperature", stroke: COLOURS.observed, width: 1.5, scale: "°C", spanGaps: false, value: celsius, points: { show: false } },
      { label: "Forecast temperature", stroke: COLOURS.forecast, width: 1.5, dash: [8, 4], scale: "°C", spanGaps: false, value: celsius, points: { show: false } },
    );
    axes.push({ scale: "°C", label: "°C", side: 1, stroke: COLOURS.observed, grid: { show: false }, size: 48 });
  }

  const fullRange = [series.x[0], series.x[series.x.length - 1]];
  const opts = {
    width: Math.max(container.clientWidth, 280),
    height: container.clientWidth < 600 ? 260 : 360,
    tzDate: london,
    series: lines,
    bands,
    axes,
    scales: { x: { time: true }, kWh: { range: (_, min, max) => [Math.min(0, min ?? 0), (max ?? 1) * 1.08 || 1] } },
    cursor: { drag: { x: true, y: false, setScale: true } },
    legend: { live: true },
    hooks: {
      setScale: [(u, key) => {
        if (key !== "x") return;
        const { min, max } = u.scales.x;
        onRange(min, max, min > fullRange[0] || max < fullRange[1]);
      }],
    },
  };
  const plot = new uPlot(opts, data, container);

  const setX = (min, max) => plot.setScale("x", { min, max });
  const controller = {
    plot,
    reset: () => setX(...fullRange),
    pan(direction) {
      const { min, max } = plot.scales.x;
      const width = max - min;
      let from = min + direction * width / 2;
      from = Math.max(fullRange[0], Math.min(from, fullRange[1] - width));
      setX(from, from + width);
    },
    zoom(factor) {
      const { min, max } = plot.scales.x;
      const centre = (min + max) / 2, half = Math.max((max - min) * factor / 2, 1800);
      setX(Math.max(fullRange[0], centre - half), Math.min(fullRange[1], centre + half));
    },
    destroy() { resize.disconnect(); plot.destroy(); },
  };

  const resize = new ResizeObserver(() => {
    const width = Math.max(container.clientWidth, 280);
    if (width !== plot.width) plot.setSize({ width, height: width < 600 ? 260 : 360 });
  });
  resize.observe(container);

  container.tabIndex = 0;
  container.addEventListener("keydown", (e) => {
    const actions = { ArrowLeft: () => controller.pan(-1), ArrowRight: () => controller.pan(1), "+": () => controller.zoom(0.5),
      "=": () => controller.zoom(0.5), "-": () => controller.zoom(2), Escape: controller.reset, 0: controller.reset };
    if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
  });
  return controller;
}
