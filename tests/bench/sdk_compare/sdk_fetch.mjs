// The @google/genai side of the comparison (see README.md): reads one finished Gemini batch job
// with inline results from a base URL (the emulator) and parses each answer as JSON.
//
//   node sdk_fetch.mjs BASE_URL JOB_NAME
//
// GEMINI_API_KEY is the key sent (any value does for the emulator). Each inlined response's
// answer is the text of its first candidate; a ```json fence around it is stripped before
// JSON.parse. Prints one JSON line: how many responses came back, how many parsed, how many were
// errors or did not parse, the time of the get and of the parsing, and the process's peak RSS.
// The script must sit beside the node_modules folder holding @google/genai (run.sh copies it
// into its temporary folder).
import { performance } from 'node:perf_hooks';
import { GoogleGenAI } from '@google/genai';

const [baseUrl, jobName] = process.argv.slice(2);
if (!baseUrl || !jobName) {
  console.error('usage: node sdk_fetch.mjs BASE_URL JOB_NAME');
  process.exit(2);
}

const ai = new GoogleGenAI({
  apiKey: process.env.GEMINI_API_KEY || 'dummy',
  vertexai: false,
  httpOptions: { baseUrl },
});

// The JSON held by an answer: the body of its first ```json (or bare ```) fence when it has
// one, else the whole text.
const fence = /```(?:json)?[ \t]*\r?\n?([\s\S]*?)```/;
function answerJson(text) {
  const m = fence.exec(text);
  return JSON.parse(m ? m[1] : text);
}

const t0 = performance.now();
const job = await ai.batches.get({ name: jobName });
const t1 = performance.now();

const responses = job.dest?.inlinedResponses;
if (!Array.isArray(responses)) {
  console.error(`sdk_fetch: job ${jobName} (state ${job.state}) has no inline responses` +
                (job.dest?.fileName ? ` (its results are the file ${job.dest.fileName})` : ''));
  process.exit(1);
}

let parsed = 0;
let errors = 0;
let unparsed = 0;
let checksum = 0;  // keeps the parsed values in use
for (const item of responses) {
  if (item.error || !item.response) {
    ++errors;
    continue;
  }
  const parts = item.response.candidates?.[0]?.content?.parts ?? [];
  let text = '';
  for (const part of parts) if (typeof part.text === 'string' && !part.thought) text += part.text;
  try {
    const value = answerJson(text);
    if (value !== null && typeof value === 'object') checksum += Object.keys(value).length;
    ++parsed;
  } catch {
    ++unparsed;
  }
}
const t2 = performance.now();

console.log(JSON.stringify({
  state: job.state,
  responses: responses.length,
  parsed,
  errors,
  unparsed,
  checksum,
  get_ms: Math.round(t1 - t0),
  parse_ms: Math.round(t2 - t1),
  max_rss_kib: process.resourceUsage().maxRSS,
}));
