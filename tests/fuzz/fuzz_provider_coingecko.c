/*
 * fuzz_provider_coingecko — libFuzzer target for the coingecko provider's parser(s);
 * see fuzz_provider_common.h. Built and run by tests/fuzz/run-providers.sh
 * (corpus: tests/fuzz/corpus/provider_coingecko/).
 */
#define FUZZ_PROVIDER "coingecko"
#define FUZZ_SYMBOLS "bitcoin", "ethereum", "usd-coin", "nosuch-coin"
#include "fuzz_provider_common.h"
