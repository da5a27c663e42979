#pragma once
/// @file llmbatch.hpp
/// The umbrella header: the core library without optional transports or the testing kit.
///
/// | header                     | what it holds                                                   |
/// |----------------------------|-----------------------------------------------------------------|
/// | `llmbatch/error.hpp`       | the exception hierarchy                                         |
/// | `llmbatch/http.hpp`        | `HttpRequest`, `HttpResponse`, `HttpHeaders`                    |
/// | `llmbatch/clock.hpp`       | the `Clock` concept and `SystemClock`                           |
/// | `llmbatch/model.hpp`       | payloads, generation config, `BatchJob`, `BatchResults`         |
/// | `llmbatch/concepts.hpp`    | `HttpTransport` and the provider capability concepts            |
/// | `llmbatch/json_filter.hpp` | `filter_json`: lenient JSON extraction from model text          |
/// | `llmbatch/providers/gemini.hpp` | `GeminiProvider<Transport, Clock>`                         |
/// | `llmbatch/retry.hpp`       | `RetryPolicy`: retries of transient failures                    |
/// | `llmbatch/progress.hpp`    | `TransferProgress`: how long uploads and downloads progress     |
/// | `llmbatch/polling.hpp`     | `wait_for_job`: polling with backoff, jitter and a deadline     |
/// | `llmbatch/service.hpp`     | `LLMService<Providers...>`                                      |
///
/// Not included: `llmbatch/testing/...` (fakes and emulators) and `llmbatch/transport/...`.

#include "llmbatch/batch_generate.hpp"
#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/any_job_store.hpp"
#include "llmbatch/job_store.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/polling.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/service_types.hpp"
#include "llmbatch/tracked_create.hpp"
