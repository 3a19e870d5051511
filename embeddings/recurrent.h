/*
 * embeddings/recurrent.h — a bidirectional recurrent encoder (GRU or
 * LSTM, one or two layers) with max- and mean-pooling over time, behind
 * the tcat_encoder interface (embeddings/encoder.h).
 *
 *     tcat_encoder *e;
 *     if (tcat_rnn_new(&e, 300, TCAT_RNN_GRU, 128, 1, &err) != TCAT_OK) ...
 *     // e->ops->nparams(e) floats of theta, out_dim = 4 * 128; see encoder.h
 *
 * Shape. H = hidden (1..4096), L = layers (1 or 2), D = in_dim. Each layer
 * has two cells: direction f reads tokens 0, 1, .., len[b]-1 of document b,
 * direction r reads len[b]-1, .., 1, 0. Both start from h = 0 (and c = 0
 * for the LSTM). h_f(t) is f's state after reading token t, h_r(t) is r's
 * state after reading token t (so h_r(0) has seen the whole document).
 * Layer 1 reads the embeddings x_t (D floats); layer 2 reads
 * [h_f(t), h_r(t)] of layer 1 (2H floats).
 *
 * GRU (PyTorch's equations; s = logistic function, * elementwise):
 *
 *     r  = s(W_ir x + b_r + W_hr h)
 *     z  = s(W_iz x + b_z + W_hz h)
 *     n  = tanh(W_in x + b_n + r * (W_hn h + b_hn))
 *     h' = (1 - z) * n + z * h
 *
 *   PyTorch's b_ir + b_hr and b_iz + b_hz only ever appear summed, so each
 *   pair is one bias here (b_r, b_z); b_n and b_hn are both kept since
 *   b_hn sits inside r * (...). Same function, 2H fewer parameters.
 *
 * LSTM (standard, no peepholes, no projection):
 *
 *     i  = s(W_ii x + W_hi h + b_i)        f  = s(W_if x + W_hf h + b_f)
 *     g  = tanh(W_ig x + W_hg h + b_g)     o  = s(W_io x + W_ho h + b_o)
 *     c' = f * c + i * g                   h' = o * tanh(c')
 *
 *   One bias per gate (PyTorch's b_ih + b_hh summed).
 *
 * Parameters (theta, floats, in this order): for layer 1 then layer 2,
 * for direction f then r, one block
 *
 *     W_ih   G*H x D_l, row-major, the gates' rows stacked in the order
 *            r, z, n (GRU, G = 3) or i, f, g, o (LSTM, G = 4)
 *     W_hh   G*H x H, same gate order
 *     b      G*H: GRU b_r, b_z, b_n; LSTM b_i, b_f, b_g, b_o
 *     b_hn   H (GRU only)
 *
 * with D_1 = D and D_2 = 2H. W_ih and W_hh are PyTorch's weight_ih_l{k}
 * and weight_hh_l{k}(_reverse) as they are (PyTorch's biases: b = bias_ih
 * + bias_hh, except for the GRU's n gate where b_n = bias_ih[n] and b_hn =
 * bias_hh[n]). A block has G*H*(D_l + H + 1) (+ H for the GRU) floats.
 *
 * Init (init()): theta is zeroed, then every W_ih and W_hh, in the order
 * of theta, is filled by tcat_tensor_uniform with a = 1/sqrt(H) (uniform
 * in [-1/sqrt(H), 1/sqrt(H)), PyTorch's default for its recurrent layers),
 * drawing from the given generator, whatever the input rows' scale (in_rms
 * is not used). Biases are 0, except the LSTM's forget gate bias b_f = 1.
 *
 * Output: the row of document b (of H in encoder.h) has out_dim = 4H
 * floats, over the top layer's states at t = 0 .. len[b]-1:
 *
 *     [ max_t h_f(t) | max_t h_r(t) | mean_t h_f(t) | mean_t h_r(t) ]
 *
 * each H wide, max and mean per unit. In backward the gradient of a max
 * goes to its first arg-max step only.
 *
 * Lengths and padding: document b uses exactly its len[b] real rows; the
 * rows past its length never enter a state or a pooled value, and get no
 * gradient (their rows of dX are 0). Internally the documents are visited
 * in order of decreasing length (ties by index): at step s (0 .. max len -
 * 1) the documents still running (len > s) are a prefix of that order, so
 * each step's products cover only them, and direction r takes its input
 * at t = len[b] - 1 - s for each document. No masks, and no finished
 * document in a step's products. The result for a document does not
 * depend on which batch it is in nor on T, up to rounding (OpenBLAS may
 * sum in another order for other shapes; the tests find 1e-6 at most).
 * The input products do run over all B*T rows of X, padding included
 * (results discarded; their gradient rows are zero), so padding rows must
 * be finite, as encoder.h's zeros are.
 *
 * Products (OpenBLAS cblas_sgemm), per layer and direction, S = the
 * longest len in the batch, n_s = documents running at step s:
 *
 *   forward   one (B*T x D_l) x (D_l x G*H) for the inputs of every step;
 *             per step, (n_s x H) x (H x G*H) for h.
 *   backward  per step, (n_s x G*H) x (G*H x H) for dh of the step before;
 *             after the steps, one (G*H x S*B) x (S*B x H) for dW_hh (the
 *             step gradients are kept, rather than one small product per
 *             step), one (G*H x B*T) x (B*T x D_l) for dW_ih and one
 *             (B*T x G*H) x (G*H x D_l) for dX (skipped for layer 1 when
 *             dX is NULL).
 *
 * Cost: forward about 2 * 2 * L * G*H * (B*T * D_l + sum_s n_s * H) flops
 * (directions x layers) plus B*T*G*H exp per direction and layer;
 * backward about twice the flops. Measured (one core of an AMD EPYC,
 * OpenBLAS serial with its Haswell kernels,
 * B = 32, T = 50, D = 300, H = 128, one layer, forward + backward): about
 * 35 ms a batch for the GRU, 48 ms for the LSTM, 70% of it in sgemm.
 *
 * Arithmetic is float throughout; tanh is computed as 2 s(2x) - 1 with
 * expf (within 2e-7 of the exact value; glibc's tanhf took a quarter of
 * the GRU's time), s(x) as 1 / (1 + expf(-x)), and each mean as a float
 * sum times 1/len.
 *
 * Workspace (floats; B*T and S*B at most): B*T*G*H for the input
 * products, per layer and direction S*B*G*H gates and (S+1)*B*H states
 * (+ S*B*H for the GRU's W_hn h + b_hn, or (S+1)*B*H LSTM cells), S*B*G*H
 * of step gradients, 2 * B*T*2H for layer 1's output and its gradient
 * when L = 2, and with train = true a copy of X (B*T*D: backward needs
 * it, and the caller may reuse X). It grows (realloc) to the largest
 * batch seen and is freed by ws_free. forward with train = false keeps
 * the same except the copy of X, and computes the same H bit for bit.
 *
 * Errors: tcat_rnn_new gives TCAT_ERR_USAGE for in_dim 0 (or too large
 * for the parameter count or a BLAS int), hidden 0 or over 4096, layers
 * not 1 or 2, an unknown cell. forward gives TCAT_ERR_USAGE for T < 1 or
 * a len[b] outside 1..T (or B*T over INT_MAX), TCAT_ERR_NOMEM when the
 * workspace cannot grow; backward gives TCAT_ERR_USAGE without a forward
 * with train = true on that workspace before. B = 0 is an empty batch
 * (no error, nothing done).
 *
 * Names: ops->name is "gru" or "lstm"; min_len() is 1.
 */
#ifndef TCAT_EMBEDDINGS_RECURRENT_H
#define TCAT_EMBEDDINGS_RECURRENT_H

#include <stddef.h>

#include "core/status.h"
#include "embeddings/encoder.h"

typedef enum tcat_rnn_cell { TCAT_RNN_GRU, TCAT_RNN_LSTM } tcat_rnn_cell;

#define TCAT_RNN_MAX_HIDDEN 4096

/* A bidirectional encoder of in_dim-float inputs with `layers` (1 or 2)
 * layers of `hidden` (1..4096) units per direction; out_dim 4 * hidden.
 * Free with tcat_encoder_free. */
tcat_status tcat_rnn_new(tcat_encoder **out, size_t in_dim, tcat_rnn_cell cell, size_t hidden,
                         size_t layers, tcat_error *err);

#endif
