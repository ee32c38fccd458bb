/*
 * fuzz_provider_coinbase — libFuzzer target for the coinbase provider's
 * parser; see fuzz_provider_common.h. Built and run by
 * tests/fuzz/run-providers.sh (corpus: tests/fuzz/corpus/provider_coinbase/).
 */
#define FUZZ_PROVIDER "coinbase"
#define FUZZ_SYMBOLS "BTC-USD"
#include "fuzz_provider_common.h"
