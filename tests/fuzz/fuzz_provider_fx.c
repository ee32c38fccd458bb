/*
 * fuzz_provider_fx — libFuzzer target for the fx provider's parser(s);
 * see fuzz_provider_common.h. Built and run by tests/fuzz/run-providers.sh
 * (corpus: tests/fuzz/corpus/provider_fx/).
 */
#define FUZZ_PROVIDER "fx"
#define FUZZ_SYMBOLS "EUR", "GBP", "JPY", "CHF"
#include "fuzz_provider_common.h"
