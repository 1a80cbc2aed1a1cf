/* A test double of libnvidia-ml for eaq's energy tests: the NVML functions eaq calls, backed by a
 * scripted GPU. eaq loads it through its normal dlopen path (EAQ_NVML_LIBRARY=<this .so>).
 *
 * Script, read at nvmlInit_v2 from the environment:
 *   FAKE_NVML_INIT_ERROR=<code>    nvmlInit_v2 fails with that NVML return code
 *   FAKE_NVML_GPUS=<n>             number of GPUs (default 1, at most 8)
 *   FAKE_NVML_NAME=<text>          device name (default "Fake NVML GPU")
 *   FAKE_NVML_COUNTER=0|1          energy counter supported (default 1) else NOT_SUPPORTED
 *   FAKE_NVML_POWER_W=<watts>      constant power of every GPU (default 100)
 *   FAKE_NVML_POWER_ERROR=<code>   nvmlDeviceGetPowerUsage fails with that code
 *   FAKE_NVML_ENERGY_ERROR_AFTER=<n> the counter fails (GPU_IS_LOST) after n reads
 *   FAKE_NVML_UPDATE_MS=<ms>       counter update period (default 100, like real GPUs)
 *   FAKE_NVML_COUNTER_COST_US=<us> time one counter read takes (default 0; ~3800 on an H100)
 * The energy counter integrates the scripted power exactly and only changes on update ticks.
 * Tests change power at run time and ask for the exact energy through the fake_nvml_* functions.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15

#define MAX_GPUS 8
#define MAX_CHANGES 4096

typedef struct {
  double time_s[MAX_CHANGES]; /* power changes: from time_s[i] on, power_w[i] */
  double power_w[MAX_CHANGES];
  double energy_j[MAX_CHANGES]; /* exact energy since init at time_s[i] */
  int n_changes;
  long counter_reads;
} fake_gpu;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fake_gpu gpus[MAX_GPUS];
static int n_gpus = 0;
static int initialised = 0;
static int counter_supported = 1;
static int power_error = 0;
static long energy_error_after = -1;
static double update_s = 0.1;
static double counter_cost_s = 0;
static double init_s = 0;
static char device_name[96] = "Fake NVML GPU";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long env_long(const char* name, long fallback) {
  const char* value = getenv(name);
  return value != NULL && *value != '\0' ? strtol(value, NULL, 10) : fallback;
}

static double env_double(const char* name, double fallback) {
  const char* value = getenv(name);
  return value != NULL && *value != '\0' ? strtod(value, NULL) : fallback;
}

/* Exact energy of a GPU at time t (caller holds the lock). */
static double energy_at_locked(const fake_gpu* gpu, double t) {
  int i = gpu->n_changes - 1;
  while (i > 0 && gpu->time_s[i] > t) --i;
  return gpu->energy_j[i] + gpu->power_w[i] * (t - gpu->time_s[i]);
}

static fake_gpu* gpu_of(void* device) {
  fake_gpu* gpu = (fake_gpu*)device;
  if (gpu < gpus || gpu >= gpus + n_gpus) return NULL;
  return gpu;
}

int nvmlInit_v2(void) {
  long error = env_long("FAKE_NVML_INIT_ERROR", 0);
  if (error != 0) return (int)error;
  pthread_mutex_lock(&lock);
  n_gpus = (int)env_long("FAKE_NVML_GPUS", 1);
  if (n_gpus < 0) n_gpus = 0;
  if (n_gpus > MAX_GPUS) n_gpus = MAX_GPUS;
  counter_supported = (int)env_long("FAKE_NVML_COUNTER", 1);
  power_error = (int)env_long("FAKE_NVML_POWER_ERROR", 0);
  energy_error_after = env_long("FAKE_NVML_ENERGY_ERROR_AFTER", -1);
  update_s = env_double("FAKE_NVML_UPDATE_MS", 100) / 1000.0;
  counter_cost_s = env_double("FAKE_NVML_COUNTER_COST_US", 0) / 1e6;
  const char* name = getenv("FAKE_NVML_NAME");
  snprintf(device_name, sizeof(device_name), "%s", name != NULL ? name : "Fake NVML GPU");
  init_s = now_s();
  double power_w = env_double("FAKE_NVML_POWER_W", 100);
  for (int i = 0; i < MAX_GPUS; ++i) {
    memset(&gpus[i], 0, sizeof(gpus[i]));
    gpus[i].time_s[0] = init_s;
    gpus[i].power_w[0] = power_w;
    gpus[i].energy_j[0] = 0;
    gpus[i].n_changes = 1;
  }
  initialised = 1;
  pthread_mutex_unlock(&lock);
  return NVML_SUCCESS;
}

int nvmlShutdown(void) {
  initialised = 0;
  return NVML_SUCCESS;
}

const char* nvmlErrorString(int code) {
  switch (code) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 9: return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    case 18: return "RM has detected an NVML/RM version mismatch";
    default: return "Unknown Error";
  }
}

int nvmlDeviceGetCount_v2(unsigned int* count) {
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  *count = (unsigned int)n_gpus;
  return NVML_SUCCESS;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  if (index >= (unsigned int)n_gpus) return NVML_ERROR_INVALID_ARGUMENT;
  *device = &gpus[index];
  return NVML_SUCCESS;
}

int nvmlDeviceGetName(void* device, char* name, unsigned int length) {
  if (gpu_of(device) == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(device_name) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  snprintf(name, length, "%s", device_name);
  return NVML_SUCCESS;
}

int nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  snprintf(version, length, "%s", "999.99-fake");
  return NVML_SUCCESS;
}

int nvmlDeviceGetTotalEnergyConsumption(void* device, unsigned long long* energy_mj) {
  fake_gpu* gpu = gpu_of(device);
  if (gpu == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (!counter_supported) return NVML_ERROR_NOT_SUPPORTED;
  if (counter_cost_s > 0) {
    struct timespec pause = {0, (long)(counter_cost_s * 1e9)};
    nanosleep(&pause, NULL);
  }
  pthread_mutex_lock(&lock);
  gpu->counter_reads++;
  if (energy_error_after >= 0 && gpu->counter_reads > energy_error_after) {
    pthread_mutex_unlock(&lock);
    return NVML_ERROR_GPU_IS_LOST;
  }
  /* The counter holds the energy at the last update tick. */
  double t = now_s();
  double tick = init_s + update_s * (double)(long)((t - init_s) / update_s);
  double energy_j = energy_at_locked(gpu, tick);
  pthread_mutex_unlock(&lock);
  *energy_mj = (unsigned long long)(energy_j * 1000.0);
  return NVML_SUCCESS;
}

int nvmlDeviceGetPowerUsage(void* device, unsigned int* power_mw) {
  fake_gpu* gpu = gpu_of(device);
  if (gpu == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  if (power_error != 0) return power_error;
  pthread_mutex_lock(&lock);
  *power_mw = (unsigned int)(gpu->power_w[gpu->n_changes - 1] * 1000.0 + 0.5);
  pthread_mutex_unlock(&lock);
  return NVML_SUCCESS;
}

int nvmlDeviceGetEnforcedPowerLimit(void* device, unsigned int* limit_mw) {
  if (gpu_of(device) == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *limit_mw = 700000;
  return NVML_SUCCESS;
}

int nvmlDeviceGetClockInfo(void* device, int type, unsigned int* mhz) {
  if (gpu_of(device) == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *mhz = type == 2 ? 2619 : 1980;
  return NVML_SUCCESS;
}

int nvmlDeviceGetTemperature(void* device, int sensor, unsigned int* celsius) {
  if (gpu_of(device) == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  *celsius = 41;
  return NVML_SUCCESS;
}

typedef struct {
  unsigned long long total, free, used;
} fake_memory;

int nvmlDeviceGetMemoryInfo(void* device, fake_memory* memory) {
  if (gpu_of(device) == NULL) return NVML_ERROR_INVALID_ARGUMENT;
  memory->total = 85899345920ULL;
  memory->used = 1073741824ULL;
  memory->free = memory->total - memory->used;
  return NVML_SUCCESS;
}

/* ---- Test controls (not part of NVML) ---- */

/* From now on GPU `index` draws `watts`. Returns the moment of the change (monotonic seconds). */
double fake_nvml_set_power_w(unsigned int index, double watts) {
  if (index >= MAX_GPUS) return -1;
  pthread_mutex_lock(&lock);
  fake_gpu* gpu = &gpus[index];
  double t = now_s();
  if (gpu->n_changes < MAX_CHANGES) {
    double energy_j = energy_at_locked(gpu, t);
    int i = gpu->n_changes++;
    gpu->energy_j[i] = energy_j;
    gpu->time_s[i] = t;
    gpu->power_w[i] = watts;
  }
  pthread_mutex_unlock(&lock);
  return t;
}

/* Exact energy (J) GPU `index` used between nvmlInit_v2 and time_s (monotonic seconds). */
double fake_nvml_exact_energy_j(unsigned int index, double time_s) {
  if (index >= MAX_GPUS) return -1;
  pthread_mutex_lock(&lock);
  double energy_j = energy_at_locked(&gpus[index], time_s);
  pthread_mutex_unlock(&lock);
  return energy_j;
}

long fake_nvml_counter_reads(unsigned int index) {
  if (index >= MAX_GPUS) return -1;
  return gpus[index].counter_reads;
}
