#!/usr/bin/env bash
# Runs the custom provider example (a user-written provider on an in-process toy server) and
# checks what it prints: the job created on the in-house provider, its statuses, the results in
# input order with the failed request as data, and cancel refused by name.
# Usage: custom_provider.sh <custom_provider>
set -euo pipefail

out=$("$1") || { echo "$out"; echo "FAILED: custom_provider exited non-zero" >&2; exit 1; }
echo "$out"
expected='Providers: in-house, gemini
Created job-1 on in-house
  PENDING (queued): 0/3 finished
  RUNNING (working): 1/3 finished
[0] SUMMARISE THE ONBOARDING GUIDE
[1] failed: the prompt is too long
[2] NAME THE NEXT MILESTONE
Cancel: Provider '"'in-house'"' does not support cancel_batch_job'
[[ $out == "$expected" ]] || { echo "FAILED: the output differs from:"; echo "$expected"; exit 1; }
