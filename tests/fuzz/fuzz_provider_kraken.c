/*
 * fuzz_provider_kraken — libFuzzer target for the kraken provider's
 * parser (batch and one-pair); see fuzz_provider_common.h. Built and run
 * by tests/fuzz/run-providers.sh (corpus: tests/fuzz/corpus/provider_kraken/).
 */
#define FUZZ_PROVIDER "kraken"
#define FUZZ_SYMBOLS "XBTUSD", "ETHUSD", "EOSUSD", "XDGUSD"
#include "fuzz_provider_common.h"
