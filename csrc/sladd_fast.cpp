// The sladd_fast._C module. The op schemas are defined in Python (sladd_fast/ops/_library.py), so
// they exist without this extension; cpu/ and cuda/ register their kernels for them on import.
#include <Python.h>

// Importing sladd_fast._C registers the ops. The module holds one fact about the build: `openmp`,
// whether the CPU kernels were compiled with OpenMP (at::parallel_for is serial without it).
extern "C" PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  PyObject* m = PyModule_Create(&module_def);
#ifdef _OPENMP
  const long openmp = 1;
#else
  const long openmp = 0;
#endif
  if (m != nullptr && PyModule_AddIntConstant(m, "openmp", openmp) != 0) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
