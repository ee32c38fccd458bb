/*
 * currency — see currency.h.
 */
#include "currency.h"

#include <stddef.h>
#include <string.h>

const char *currency_major(const char *code)
{
    static const struct {
        const char *minor, *major;
    } units[] = {{"GBp", "GBP"}, {"GBX", "GBP"}, {"ZAc", "ZAR"}, {"ILA", "ILS"}, {"USX", "USD"}};
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(code, units[i].minor) == 0)
            return units[i].major;
    return NULL;
}
