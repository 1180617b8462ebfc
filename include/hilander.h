/*
 * libhilander - learned hierarchical clustering of feature vectors (Hi-LANDER).
 *
 * Include this header to get the whole public API.  One header per subsystem
 * lives under hilander/: error (status codes, last error, logging), version,
 * io (.npy and learn-to-cluster files), graph (kNN and the graph), model
 * (LANDER inference and model files), train, cluster (decode, hierarchy),
 * metrics and collection (a clustering that grows and is kept on disk).
 * See docs/API.md for the conventions.
 */
#ifndef HILANDER_H
#define HILANDER_H

#include "hilander/common.h"
#include "hilander/version.h"
#include "hilander/error.h"
#include "hilander/io.h"
#include "hilander/graph.h"
#include "hilander/model.h"
#include "hilander/train.h"
#include "hilander/cluster.h"
#include "hilander/metrics.h"
#include "hilander/collection.h"

#endif
