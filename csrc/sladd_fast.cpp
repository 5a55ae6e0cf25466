// Operator schemas for sladd_fast. Backends register implementations in cpu/ and cuda/.
#include <Python.h>
#include <torch/library.h>

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

TORCH_LIBRARY(sladd_fast, m) {
  m.def("region_mask(Tensor landmarks, Tensor region, int size) -> Tensor");
  m.def("hull_mask(Tensor landmarks, int size) -> Tensor");
  m.def("blend_linear(Tensor target, Tensor source, Tensor mask, Tensor weight) -> Tensor");
  m.def("poisson_rhs(Tensor target, Tensor source, Tensor mask, Tensor roi) -> Tensor");
  m.def("poisson_compose(Tensor target, Tensor solution, Tensor roi) -> Tensor");
  m.def("deform_mask(Tensor mask, Tensor noise) -> Tensor");
  m.def("morph_square(Tensor mask, Tensor op, Tensor k) -> Tensor");
  m.def("warp_affine_cubic(Tensor input, Tensor inverse_map) -> Tensor");
  m.def("rgb_to_lab(Tensor rgb) -> Tensor");
  m.def("lab_to_rgb(Tensor lab) -> Tensor");
  m.def("blur_in_box(Tensor input, Tensor kernels, Tensor radius, Tensor box) -> Tensor");
}
