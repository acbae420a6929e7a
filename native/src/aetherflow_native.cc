// aetherflow_native: CPU topology and thread pinning for the runtime's workers (src/runtime/native.ts).
//
//   topology() → { logicalCores, l1d, l1i, l2, l3, numaNode: number[] }   (bytes; 0 = unknown)
//   pin(core)  → boolean   sched_setaffinity of the *calling thread* (a worker pins itself)
//   affinity() → number[]  the cores the calling thread may run on
//
// Facts come from Linux's /sys/devices/system/cpu (cache sizes of cpu0, the NUMA node link in each
// cpuN directory). Elsewhere topology() reports what the standard library knows and pin() is false:
// the runtime then runs unpinned, as it does when this addon is missing.
//
// Context-aware (NAPI_MODULE_INIT via node-addon-api): every worker thread loads its own instance.
#include <napi.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// "32K" / "512K" / "32768K" / "1M" → bytes (0 when unparsable).
double ParseSize(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return 0;
  switch (*end) {
    case 'K': case 'k': return v * 1024;
    case 'M': case 'm': return v * 1024 * 1024;
    case 'G': case 'g': return v * 1024 * 1024 * 1024;
    default: return v;
  }
}

int LogicalCores() {
#if defined(__linux__)
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 0) return static_cast<int>(n);
#endif
  unsigned n2 = std::thread::hardware_concurrency();
  return n2 > 0 ? static_cast<int>(n2) : 1;
}

Napi::Value Topology(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  int cores = LogicalCores();
  double l1d = 0, l1i = 0, l2 = 0, l3 = 0;
  std::vector<int> nodes(cores, 0);
#if defined(__linux__)
  const std::string sys = "/sys/devices/system/cpu/";
  for (int idx = 0; idx < 16; idx++) {
    std::string dir = sys + "cpu0/cache/index" + std::to_string(idx) + "/";
    std::string level = ReadLine(dir + "level");
    if (level.empty()) break;
    std::string type = ReadLine(dir + "type");
    double size = ParseSize(ReadLine(dir + "size"));
    if (level == "1" && type == "Data") l1d = size;
    else if (level == "1" && type == "Instruction") l1i = size;
    else if (level == "2") l2 = size;
    else if (level == "3") l3 = size;
  }
  for (int c = 0; c < cores; c++) {
    std::string dir = sys + "cpu" + std::to_string(c);
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.compare(0, 4, "node") == 0 && name.find_first_not_of("0123456789", 4) == std::string::npos) {
        nodes[c] = std::atoi(name.c_str() + 4);
        break;
      }
    }
    closedir(d);
  }
#endif
  out.Set("logicalCores", Napi::Number::New(env, cores));
  out.Set("l1d", Napi::Number::New(env, l1d));
  out.Set("l1i", Napi::Number::New(env, l1i));
  out.Set("l2", Napi::Number::New(env, l2));
  out.Set("l3", Napi::Number::New(env, l3));
  Napi::Array numa = Napi::Array::New(env, nodes.size());
  for (size_t i = 0; i < nodes.size(); i++) numa.Set(static_cast<uint32_t>(i), Napi::Number::New(env, nodes[i]));
  out.Set("numaNode", numa);
  return out;
}

Napi::Value Pin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "pin(core): core must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int core = info[0].As<Napi::Number>().Int32Value();
#if defined(__linux__)
  if (core < 0 || core >= CPU_SETSIZE) return Napi::Boolean::New(env, false);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  // pid 0 = the calling thread (Linux affinity is per thread): only this worker moves.
  return Napi::Boolean::New(env, sched_setaffinity(0, sizeof(set), &set) == 0);
#else
  (void)core;
  return Napi::Boolean::New(env, false);
#endif
}

Napi::Value Affinity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    uint32_t k = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
      if (CPU_ISSET(c, &set)) out.Set(k++, Napi::Number::New(env, c));
    }
  }
#endif
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("topology", Napi::Function::New(env, Topology, "topology"));
  exports.Set("pin", Napi::Function::New(env, Pin, "pin"));
  exports.Set("affinity", Napi::Function::New(env, Affinity, "affinity"));
  return exports;
}

}  // namespace

NODE_API_MODULE(aetherflow_native, Init)
