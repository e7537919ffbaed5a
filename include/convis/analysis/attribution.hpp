#pragma once
// The attribution suite (beyond the paper): the Grad-CAM family, gradient methods, SmoothGrad and
// VarGrad, and the metrics that say whether a map is faithful. attribution/method.hpp lists every
// method and its definition.
#include "attribution/attribute.hpp"
#include "attribution/attributor.hpp"
#include "attribution/cam.hpp"
#include "attribution/faithfulness.hpp"
#include "attribution/gradients.hpp"
#include "attribution/maps.hpp"
#include "attribution/method.hpp"
#include "attribution/sanity.hpp"
