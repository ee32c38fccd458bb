/*
 * fuzz_provider_erapi — libFuzzer target for the erapi provider's parser;
 * see fuzz_provider_common.h. Built and run by tests/fuzz/run-providers.sh
 * (corpus: tests/fuzz/corpus/provider_erapi/).
 */
#define FUZZ_PROVIDER "erapi"
#define FUZZ_SYMBOLS "EUR", "TWD", "AED", "XYZ"
#include "fuzz_provider_common.h"
