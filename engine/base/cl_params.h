/* The one parameter table. Every tunable is one row here: key, label, type, range, default,
 * unit, help, live-or-restart. The CLI (--set, --list-params), preset files, run.ini, the GUI
 * sliders and their tooltips, and PNG metadata are all driven from this table. */
#pragma once
#include <glib.h>
#include <stddef.h>

typedef enum
{
  CL_PARAM_INT,
  CL_PARAM_FLOAT,
  CL_PARAM_ENUM, /* stored as int index into choices */
  CL_PARAM_STRING,
} ClParamType;

typedef enum
{
  CL_PARAM_LIVE = 1 << 0,             /* applies to the running training at the next step */
  CL_PARAM_LOG_SCALE = 1 << 1,        /* sliders use a log scale */
  CL_PARAM_NEGATIVE_IS_AUTO = 1 << 2, /* a negative value (min is -1) means "choose automatically"; 0 is a real 0;
                                       * log sliders span [CL_PARAM_LOG_FLOOR, max] plus notches for auto and 0 */
  CL_PARAM_ZERO_IS_AUTO = 1 << 3,     /* 0 means "choose automatically" (shown as "auto") */
} ClParamFlags;
/* Flags bits from CL_PARAM_KINDS_SHIFT on: the data.kind values (ClSceneKind) a parameter acts
 * on, CL_PARAM_FOR_KIND (k) each; none set = every kind. The window dims the others. */
#define CL_PARAM_KINDS_SHIFT 8
#define CL_PARAM_FOR_KIND(k) (1u << (CL_PARAM_KINDS_SHIFT + (k)))
/* Bits from CL_PARAM_LOSSES_SHIFT on: the same for loss.kind values (ClLossKind). */
#define CL_PARAM_LOSSES_SHIFT 16
#define CL_PARAM_FOR_LOSS(k) (1u << (CL_PARAM_LOSSES_SHIFT + (k)))

/* data.kind values are ClSceneKind (cl_scenes.h), in the same order. */
/* Largest data.bits: the first conv layer is sized for this many bit planes. */
#define CL_MAX_BITS 24
/* loss.kind values are ClLossKind (cl_loss.h), in the same order. */
/* loss.lambda < 0 (auto) means: tau/d for decoupled, this for swd-*. */
#define CL_SWD_AUTO_LAMBDA 1
typedef enum
{
  CL_ARCH_CONVN = 0,
  CL_ARCH_CONVN_SAME = 1,
  CL_ARCH_CONVN_DEEP = 2
} ClArch;
/* train.optimizer values are ClOptimizerKind (engine/nn/cl_optimizer.h), in the same order. */
/* probe.kind values are ClProbeKind (engine/analysis/cl_probe.h), in the same order. */

/* Values of every parameter, by name. Plain data: copy with '='. */
typedef struct
{
  char data_base[64];
  char data_path[1024];
  int data_kind;
  int data_bits;
  int data_pool;
  int data_big_size;
  int data_tint;
  double data_bit_resample;
  int data_bg_per_view;
  int data_overlay_layout;
  double aug_crop_min_area;
  double aug_flip;
  double aug_jitter;
  double aug_noise;
  double aug_blur;
  int loss_kind;
  double loss_temperature;
  double loss_lambda;
  int model_arch;
  double model_width;
  int model_head_layers;
  int train_batch;
  double train_lr;
  int train_optimizer;
  int train_steps;
  int train_seed;
  int train_threads;
  double train_weight_decay;
  int probe_every;
  int probe_sim_images;
  int probe_cluster_images;
  int probe_images;
  int probe_kind;
  int probe_control_test_images;
} ClConfig;

/* Smallest positive value a log-scale slider of a CL_PARAM_NEGATIVE_IS_AUTO parameter reaches. */
#define CL_PARAM_LOG_FLOOR 1e-5

typedef struct
{
  const char *key;   /* "group.name" */
  const char *label; /* what a person reads: "Temperature τ" (UTF-8, capitalised, no key) */
  ClParamType type;
  size_t offset;              /* into ClConfig */
  size_t size;                /* buffer size, for strings */
  double min, max;            /* numeric range, inclusive */
  double def;                 /* numeric default (enum: index) */
  const char *def_str;        /* string default */
  const char *const *choices; /* enum values, NULL-terminated */
  const char *unit;           /* "" when unitless */
  const char *help;           /* one line, used for --list-params and tooltips */
  guint flags;
} ClParam;

#define CL_CONFIG_ERROR (cl_config_error_quark ())
GQuark cl_config_error_quark (void);
typedef enum
{
  CL_CONFIG_ERROR_UNKNOWN_KEY,
  CL_CONFIG_ERROR_BAD_VALUE,
  CL_CONFIG_ERROR_FILE,
} ClConfigError;

const ClParam *cl_params (int *n_params);
const ClParam *cl_param_lookup (const char *key);
/* TRUE when the parameter acts on runs of that data.kind (index into data.kind's choices). */
gboolean cl_param_applies_to_kind (const ClParam *param, int data_kind);
/* The data.kind names it acts on, "multi-objects" or "overlay or two-objects"; NULL when it
 * acts on every kind. Free with g_free. */
char *cl_param_kinds_text (const ClParam *param);
/* The same for loss.kind: TRUE when it acts on that loss; the loss names it acts on, or NULL. */
gboolean cl_param_applies_to_loss (const ClParam *param, int loss_kind);
char *cl_param_losses_text (const ClParam *param);
/* NULL when the parameter acts on a run of cfg, else why not, in a sentence naming cfg's data.kind
 * or loss.kind and those it acts on ("Not used with randbits data: only multi-objects uses it
 * (data.kind)."). Free with g_free. */
char *cl_param_why_unused (const ClParam *param, const ClConfig *cfg);

void cl_config_init (ClConfig *cfg);
/* Parse value (C locale) and store it. Errors name the key and the accepted range or values. */
gboolean cl_config_set (ClConfig *cfg, const char *key, const char *value, GError **error);
/* "KEY=VALUE" form, as given to --set. */
gboolean cl_config_set_assignment (ClConfig *cfg, const char *assignment, GError **error);
/* Value as text, C locale, round-trippable. */
char *cl_config_get (const ClConfig *cfg, const ClParam *param);
double cl_config_get_number (const ClConfig *cfg, const ClParam *param);
/* Set a numeric (int/float/enum index) value with range check. */
gboolean cl_config_set_number (ClConfig *cfg, const ClParam *param, double value, GError **error);
gboolean cl_config_value_equal (const ClConfig *a, const ClConfig *b, const ClParam *param);
/* TRUE when a and b differ in any parameter that is not live. */
gboolean cl_config_needs_restart (const ClConfig *a, const ClConfig *b);

/* Apply the parameters of a GKeyFile (groups = part before the first dot). Unknown groups
 * or keys are errors naming source and key. The group "preset" (description, minutes) is metadata. */
gboolean cl_config_load_keyfile (ClConfig *cfg, GKeyFile *kf, const char *source, GError **error);
gboolean cl_config_load_file (ClConfig *cfg, const char *path, GError **error);
gboolean cl_config_load_data (ClConfig *cfg, const char *text, const char *source, GError **error);
/* The complete configuration as .ini text (every key, grouped). */
char *cl_config_to_ini (const ClConfig *cfg);

/* Presets: files NAME.ini in the presets folder. */
const char *cl_presets_dir (void);
/* NAME (in the presets folder) or a path to a .ini file. Returns a newly allocated path. */
char *cl_preset_resolve (const char *name_or_file, GError **error);
/* Sorted names (without .ini) of the presets found. */
GPtrArray *cl_preset_list (void);
/* description and expected minutes from a preset's [preset] group (either may be NULL). */
gboolean cl_preset_describe (const char *path, char **description, double *minutes);
