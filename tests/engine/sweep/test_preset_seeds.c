/* The presets that make a claim in the guide report it as mean +- std over seeds (issue 13): each
 * one's [preset] sweep= line, as the headless run and Sweep... read it, has a train.seed axis of at
 * least three distinct seeds, and every other axis keeps them (a cell of the figure is a mean of
 * three runs). */
#include <glib.h>
#include <string.h>

#include "engine/sweep/cl_sweep.h"

static const char *const claim_presets[] = {
  "randbits-table", "randbits-quick", "generalized-loss", "object-size",
  "overlay-pool",   "bit-resample",   "color-vs-class",
};

static void
test_claim_presets_sweep_seeds (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (claim_presets); i++)
    {
      GError *error = NULL;
      g_autofree char *path = cl_preset_resolve (claim_presets[i], &error);
      g_assert_no_error (error);
      g_autofree char *spec = cl_sweep_preset_spec (path);
      g_assert_nonnull (spec);
      ClConfig base;
      cl_config_init (&base);
      g_assert_true (cl_config_load_file (&base, path, &error));
      g_assert_no_error (error);
      g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new_from_text (&base, spec, &error);
      g_assert_no_error (error);
      int seed_axis = -1;
      for (int a = 0; a < cl_sweep_grid_n_axes (grid); a++)
        if (strcmp (cl_sweep_grid_param (grid, a)->key, "train.seed") == 0)
          seed_axis = a;
      g_test_message ("%s: %s", claim_presets[i], spec);
      g_assert_cmpint (seed_axis, >=, 0);
      const int n = cl_sweep_grid_n_values (grid, seed_axis);
      g_assert_cmpint (n, >=, 3);
      for (int v = 0; v < n; v++)
        for (int w = 0; w < v; w++)
          g_assert_cmpstr (cl_sweep_grid_value (grid, seed_axis, v), !=, cl_sweep_grid_value (grid, seed_axis, w));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep/claim-presets-three-seeds", test_claim_presets_sweep_seeds);
  return g_test_run ();
}
