// SPDX-License-Identifier: MIT
// Decodes a portex --hlog file with hdr-histogram-js (an independent HdrHistogram
// implementation) and prints what it read as JSON, for test_hlog.py to compare.
//   node hlog_decode.js NODE_MODULES_DIR LOG_FILE
"use strict";
const fs = require("fs");
const path = require("path");
const hdr = require(path.join(process.argv[2], "hdr-histogram-js"));

const text = fs.readFileSync(process.argv[3], "utf8");
const reader = new hdr.HistogramLogReader(text);
const merged = {};
const lines = [];
for (;;) {
  const h = reader.nextIntervalHistogram();
  if (h === null) break;
  const tag = h.tag === undefined || h.tag === "NO TAG" ? "" : h.tag;
  if (!(tag in merged))
    merged[tag] = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60000000,
                              numberOfSignificantValueDigits: 2 });
  merged[tag].add(h);
  const counts = {};
  const values = {}; // the lowest value HdrHistogram maps to each used index
  for (let i = 0; i < h.countsArrayLength; i++) {
    const c = h.getCountAtIndex(i);
    if (c > 0) {
      counts[i] = c;
      values[i] = h.valueFromIndex(i);
    }
  }
  lines.push({ tag, start_ms: h.startTimeStampMsec, end_ms: h.endTimeStampMsec,
               total: h.totalCount, counts_length: h.countsArrayLength, counts, values });
}
const summary = {};
for (const [tag, m] of Object.entries(merged))
  summary[tag] = { count: m.totalCount, p50: m.getValueAtPercentile(50),
                   p90: m.getValueAtPercentile(90), p99: m.getValueAtPercentile(99),
                   max: m.maxValue };
console.log(JSON.stringify({ lines, summary }));
