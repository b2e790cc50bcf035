/* The sweep plan reader (cl_sweep_plan_parse): a plan that parses must write back to a text
 * that parses to the same plan. */
#include <string.h>

#include "engine/sweep/cl_sweep.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size > (1 << 20))
    return 0;
  GError *error = NULL;
  ClSweepGrid *grid = cl_sweep_plan_parse ((const char *) data, size, "fuzz.plan", &error);
  if (!grid)
    {
      fuzz_check_message (error);
      g_clear_error (&error);
      return 0;
    }
  char *text = cl_sweep_plan_text (grid);
  ClSweepGrid *back = cl_sweep_plan_parse (text, strlen (text), "round-trip", NULL);
  if (!back)
    abort ();
  char *again = cl_sweep_plan_text (back);
  if (strcmp (text, again) != 0)
    abort ();
  g_free (again);
  g_free (text);
  cl_sweep_grid_free (back);
  cl_sweep_grid_free (grid);
  return 0;
}
