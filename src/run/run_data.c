/* run_data: the datasets a plan trains on. The plan holds them (sweep.h:
 * each distinct source read once, a CSV hashed and parsed from the same
 * bytes); every trial reads them, shared and read-only. See run_internal.h. */
#include "run_internal.h"

int run_plan_load_data(sweep_plan *p, FILE *err)
{
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    int rc = sweep_plan_load_sources(p, &d);
    if (rc) {
        if (d.n == 0)
            spec_diagnostics_add(&d, "", 0, 0, "cannot load the dataset");
        spec_diagnostics_print(&d, err);
    }
    spec_diagnostics_free(&d);
    return rc ? -1 : 0;
}
