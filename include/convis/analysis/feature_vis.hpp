#pragma once
// Feature visualisation by optimisation: objectives (a channel, a unit, a class logit, a direction)
// at any layer, pixel or decorrelated-Fourier pictures, transformation robustness, L2 and
// total-variation penalties, Adam on the input — on any runtime_model (a session of either policy,
// or runtime_view over a typed Model). See feature_vis/visualise.hpp.
#include "feature_vis/objective.hpp"
#include "feature_vis/parametrisation.hpp"
#include "feature_vis/visualise.hpp"
