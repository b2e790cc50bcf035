/* OpenBLAS's core chosen by CPU features: see cl_blas_core.h for the why and the rules. */
#include "engine/nn/cl_blas_core.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* OpenBLAS's own declaration lives in its cblas.h; repeated so a netlib cblas.h also builds. */
extern char *openblas_get_corename (void);

#define ENV_CORETYPE "OPENBLAS_CORETYPE"
#define ENV_DETECTED "CONTRASTLAB_BLAS_DETECTED"
#define ENV_SELF_TEST "CONTRASTLAB_BLAS_SELF_TEST"
#define ENV_PRETEND "CONTRASTLAB_BLAS_PRETEND_DETECTED"

static ClBlasCoreState state = CL_BLAS_CORE_DETECTED;
static gboolean set_up = FALSE;

/* 3: AVX-512 kernels (SkylakeX and newer), 2: AVX2 + FMA kernels (Haswell, Zen), 1: anything older
 * (Sandy Bridge's AVX, SSE3 Prescott, Core2, Nehalem, the AMD families before Zen...). */
static int
core_rank (const char *name)
{
  static const char *const avx512[] = { "skylakex", "cooperlake", "sapphirerapids" };
  static const char *const avx2[] = { "haswell", "zen" };
  if (!name)
    return 1;
  for (size_t i = 0; i < G_N_ELEMENTS (avx512); i++)
    if (g_ascii_strcasecmp (name, avx512[i]) == 0)
      return 3;
  for (size_t i = 0; i < G_N_ELEMENTS (avx2); i++)
    if (g_ascii_strcasecmp (name, avx2[i]) == 0)
      return 2;
  return 1;
}

const char *
cl_blas_core_pick (const char *detected, gboolean avx2_fma, gboolean avx512)
{
  const int cpu = avx512 && avx2_fma ? 3 : avx2_fma ? 2 : 1;
  if (core_rank (detected) >= cpu)
    return NULL;
  return cpu == 3 ? "SkylakeX" : "Haswell";
}

static void
cpu_features (gboolean *avx2_fma, gboolean *avx512)
{
  *avx2_fma = *avx512 = FALSE;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  *avx2_fma = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  /* OpenBLAS's SkylakeX kernels use the F, BW, VL and DQ subsets. */
  *avx512 = __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
            __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq");
#endif
}

/* exec returns only on failure; the caller then carries on as it is. */
static void
reexec (char **argv)
{
  fflush (NULL);
  execv ("/proc/self/exe", argv);
  fprintf (stderr, "contrastlab: could not re-execute itself to set %s (%s); OpenBLAS keeps its own core\n",
           ENV_CORETYPE, strerror (errno));
}

static double
rel_error (double got, double want, double scale)
{
  return fabs (got - want) / (scale > 0.0 ? scale : 1.0);
}

gboolean
cl_blas_core_self_test (void)
{
  /* Odd sizes, so the kernels' edge paths run too; values in [-1, 1). */
  enum
  {
    M = 37,
    N = 29,
    K = 53
  };
  static float a[M * K], b[K * N], c[M * N], s[M * M];
  static double ad[M * K], bd[K * N], cd[M * N];
  guint32 x = 2463534242u;
  for (int i = 0; i < M * K; i++)
    {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      a[i] = (float) ((double) x / 4294967296.0 * 2.0 - 1.0);
      ad[i] = a[i];
    }
  for (int i = 0; i < K * N; i++)
    {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      b[i] = (float) ((double) x / 4294967296.0 * 2.0 - 1.0);
      bd[i] = b[i];
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
  cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0, ad, K, bd, N, 0.0, cd, N);
  cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, M, K, 1.0f, a, K, 0.0f, s, M);
  double worst_s = 0.0, worst_d = 0.0, worst_syrk = 0.0;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      {
        double want = 0.0, scale = 0.0;
        for (int k = 0; k < K; k++)
          {
            want += ad[i * K + k] * bd[k * N + j];
            scale += fabs (ad[i * K + k] * bd[k * N + j]);
          }
        worst_s = fmax (worst_s, rel_error (c[i * N + j], want, scale));
        worst_d = fmax (worst_d, rel_error (cd[i * N + j], want, scale));
      }
  for (int i = 0; i < M; i++)
    for (int j = i; j < M; j++)
      {
        double want = 0.0, scale = 0.0;
        for (int k = 0; k < K; k++)
          {
            want += ad[i * K + k] * ad[j * K + k];
            scale += fabs (ad[i * K + k] * ad[j * K + k]);
          }
        worst_syrk = fmax (worst_syrk, rel_error (s[i * M + j], want, scale));
      }
  /* A sum of K products carries at most about K rounding errors of its magnitude; a wrong kernel
   * (a missed edge, garbage lanes) is off by O(1). */
  return worst_s <= K * 1.2e-7 && worst_syrk <= K * 1.2e-7 && worst_d <= K * 2.3e-16;
}

void
cl_blas_core_setup (char **argv)
{
  if (set_up)
    return;
  set_up = TRUE;
  const char *env = getenv (ENV_CORETYPE);
  const char *detected = getenv (ENV_DETECTED);
  const char *self_test = getenv (ENV_SELF_TEST);

  if (self_test && strcmp (self_test, "failed") == 0)
    {
      state = CL_BLAS_CORE_CHOSEN_FAILED;
      return;
    }
  if (env && detected)
    {
      /* Our own re-execution (or a program it started, which inherited both): check the kernels. */
      if (cl_blas_core_self_test ())
        {
          state = CL_BLAS_CORE_CHOSEN;
          return;
        }
      fprintf (
          stderr,
          "contrastlab: OpenBLAS's %s kernels failed the self-test on this CPU; going back to the core it detected "
          "(%s)\n",
          env, detected);
      unsetenv (ENV_CORETYPE);
      setenv (ENV_SELF_TEST, "failed", 1);
      reexec (argv);
      state = CL_BLAS_CORE_CHOSEN_FAILED;
      return;
    }
  if (env)
    {
      state = CL_BLAS_CORE_FROM_ENV;
      return;
    }
  const char *pretend = getenv (ENV_PRETEND);
  const char *openblas_core = pretend && *pretend ? pretend : openblas_get_corename ();
  gboolean avx2_fma, avx512;
  cpu_features (&avx2_fma, &avx512);
  const char *pick = cl_blas_core_pick (openblas_core, avx2_fma, avx512);
  if (!pick || !argv || !argv[0])
    return;
  setenv (ENV_DETECTED, openblas_core ? openblas_core : "unknown", 1);
  setenv (ENV_CORETYPE, pick, 1);
  reexec (argv);
  /* exec failed: nothing changed in this process. */
  unsetenv (ENV_DETECTED);
  unsetenv (ENV_CORETYPE);
}

ClBlasCoreState
cl_blas_core_state (void)
{
  return state;
}

char *
cl_blas_core_describe (void)
{
  const char *core = openblas_get_corename ();
  /* A program that never called cl_blas_core_setup (the tests) still names an environment's choice. */
  const ClBlasCoreState now = !set_up && g_getenv (ENV_CORETYPE) ? CL_BLAS_CORE_FROM_ENV : state;
  switch (now)
    {
    case CL_BLAS_CORE_CHOSEN:
      return g_strdup_printf ("core %s (chosen by ContrastLab from the CPU's features: OpenBLAS detected %s; "
                              "self-test passed)",
                              core, g_getenv (ENV_DETECTED));
    case CL_BLAS_CORE_CHOSEN_FAILED:
      return g_strdup_printf ("core %s (as OpenBLAS detected it: the core chosen from the CPU's features failed the "
                              "self-test)",
                              core);
    case CL_BLAS_CORE_FROM_ENV:
      return g_strdup_printf ("core %s (%s=%s, set by the environment: kept)", core, ENV_CORETYPE,
                              g_getenv (ENV_CORETYPE));
    case CL_BLAS_CORE_DETECTED:
    default:
      return g_strdup_printf ("core %s (as OpenBLAS detected it)", core);
    }
}
