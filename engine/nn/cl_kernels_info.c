/* Which compute kernels this process runs: the CPU's features, the conv microkernels chosen from
 * them, and what OpenBLAS (the dense layers' and the loss's sgemm) detected. */
#include "engine/nn/cl_kernels_info.h"

#include <glib.h>
#include <string.h>

#include "engine/nn/cl_blas_core.h"
#include "engine/nn/cl_conv.h"

/* OpenBLAS's own declarations live in its cblas.h; repeated so a netlib cblas.h also builds. */
extern char *openblas_get_config (void);

static char *
cpu_model (void)
{
  g_autofree char *text = NULL;
  if (g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"))
      if (g_str_has_prefix (line, "model name"))
        {
          const char *colon = strchr (line, ':');
          if (colon)
            return g_strstrip (g_strdup (colon + 1));
        }
  return g_strdup ("unknown CPU");
}

char *
cl_nn_describe_kernels (void)
{
  g_autofree char *model = cpu_model ();
  GString *features = g_string_new (NULL);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  /* __builtin_cpu_supports takes a literal only. */
  const gboolean has[4] = { __builtin_cpu_supports ("avx512f"), __builtin_cpu_supports ("avx2"),
                            __builtin_cpu_supports ("fma"), __builtin_cpu_supports ("sse3") };
  static const char *const names[4] = { "AVX-512F", "AVX2", "FMA", "SSE3" };
  for (int i = 0; i < 4; i++)
    if (has[i])
      g_string_append_printf (features, "%s%s", features->len ? ", " : "", names[i]);
#endif
  const char *conv = cl_conv_kernels_name ();
  const double cal = cl_conv_kernels_calibration ();
  g_autofree char *choice =
      cal > 0.0 ? g_strdup_printf (" (AVX-512 kernels took %.2fx the AVX2 time at start-up)", cal) : g_strdup ("");
  g_autofree char *core = cl_blas_core_describe ();
  const gboolean micro = strcmp (conv, "im2col") != 0;
  char *out = g_strdup_printf (
      "CPU: %s (%s); conv, dense and loss products: %s%s%s; still on OpenBLAS: %s (%s, %s)", model,
      features->len ? features->str : "no AVX", conv, micro ? " microkernels" : " + OpenBLAS sgemm", choice,
      micro ? "the sliced-Wasserstein losses', the probes' and the similarity products" : "every product",
      openblas_get_config (), core);
  g_string_free (features, TRUE);
  return out;
}
