// p2m_top: the digital periphery of the P2M chip (contract: rtl/REGISTERS.md; architecture,
// clock domains, timing and cycle counts: docs/rtl.md).
//
// Two clock domains (REGISTERS.md "Clocking and clock-domain crossings"):
//   clk_slow (always on, nominal 1 MHz): p2m_window_timer, the slow halves of the crossings
//   clk (readout clock, nominal 100 MHz): runs only while clk_req is high (or while the host
//        runs it for APB): CSR, window-end sampling, readout, AER, reset and programming.
//
//   rst_n -> p2m_rst_sync (clk) -> rst_f_n      rst_n -> p2m_rst_sync (clk_slow) -> rst_s_n
//   APB3 <-> p2m_apb_csr (registers, status, counters, pslverr, irq)
//   p2m_timer_cdc  : CTRL.EN / TICK_DIV / WINDOW_LEN  clk -> clk_slow (held data, toggle handshake)
//   p2m_window_timer (clk_slow): prescaler, window counter, win_tgl
//   p2m_win_sync   : win_tgl clk_slow -> clk (p2m_sync2), sample_pend, overrun
//   p2m_clk_req    : clk_req = work at the next clk edge, or a window end not yet taken over
//   p2m_readout_ctrl: phases, ana_sample, ana_ch_sel, flag latch, priority encoder
//   p2m_aer_tx     : aer_req / aer_addr / aer_ack 4-phase handshake (aer_ack via p2m_sync2)
//   p2m_reset_seq  : ana_rst, ana_rst_all, ana_rst_ch, ana_rst_mask
//   p2m_prog_seq   : ana_prog, ana_prog_target, ana_prog_index, ana_prog_dir
//
// Geometry parameters: N_CH channels, OUT_H x OUT_W neurons per channel, N_POL input
// polarities and KSIZE x KSIZE kernels (programming index space); every width is derived.
//
// Simulation only (`ifndef SYNTHESIS): the `real` analog debug taps tap_dw_pos, tap_dw_neg,
// tap_vpre, tap_vth, written by the testbench's analog bridge for the neuron selected by
// PROBE (probe_ch, probe_y, probe_x), and drawn by GTKWave as analog traces.
`timescale 1ns / 1ps
`default_nettype none

module p2m_top #(
    parameter N_CH        = 32,       // first-layer channels
    parameter OUT_H       = 16,       // output rows per channel
    parameter OUT_W       = 16,       // output columns per channel
    parameter N_POL       = 2,        // input polarities (ON/OFF)
    parameter KSIZE       = 3,        // kernel size
    parameter FLAG_SETTLE = 2         // clk cycles from an ana_ch_sel change to the flag latch (1..255)
) (
    clk, clk_slow, rst_n, clk_req,
    psel, penable, pwrite, paddr, pwdata, prdata, pready, pslverr,
    aer_req, aer_ack, aer_addr,
    ana_sample, ana_ch_sel, ana_flags,
    ana_rst, ana_rst_all, ana_rst_ch, ana_rst_mask,
    ana_prog, ana_prog_target, ana_prog_index, ana_prog_dir,
    phase, irq
);
    // ---------------------------------------------------------------- derived widths
    localparam CH_BITS  = (N_CH  > 1) ? $clog2(N_CH)  : 1;   // aer_addr channel field
    localparam Y_BITS   = (OUT_H > 1) ? $clog2(OUT_H) : 1;   // aer_addr row field
    localparam X_BITS   = (OUT_W > 1) ? $clog2(OUT_W) : 1;   // aer_addr column field
    localparam N_NEUR   = OUT_H * OUT_W;                     // flag bits per channel
    localparam AW       = CH_BITS + Y_BITS + X_BITS;         // aer_addr = {ch, y, x}
    localparam N_WEIGHT = N_CH * N_POL * KSIZE * KSIZE;      // weight cells
    localparam W_BITS   = (N_WEIGHT > 1) ? $clog2(N_WEIGHT) : 1;
    localparam PROG_IDX_BITS = (W_BITS > CH_BITS) ? W_BITS : CH_BITS;  // weight or channel index

    // clocks and reset
    input  wire                     clk;          // readout clock (runs on request)
    input  wire                     clk_slow;     // always-on slow clock (window timer)
    input  wire                     rst_n;        // asynchronous, released at any time
    output wire                     clk_req;      // request for clk (asynchronous)
    // APB3 (synchronous to clk)
    input  wire                     psel;
    input  wire                     penable;
    input  wire                     pwrite;
    input  wire [11:0]              paddr;
    input  wire [31:0]              pwdata;
    output wire [31:0]              prdata;
    output wire                     pready;
    output wire                     pslverr;
    // AER
    output wire                     aer_req;
    input  wire                     aer_ack;      // asynchronous
    output wire [AW-1:0]            aer_addr;
    // analog boundary
    output wire                     ana_sample;
    output wire [CH_BITS-1:0]       ana_ch_sel;
    input  wire [N_NEUR-1:0]        ana_flags;
    output wire                     ana_rst;
    output wire                     ana_rst_all;
    output wire [CH_BITS-1:0]       ana_rst_ch;
    output wire [N_NEUR-1:0]        ana_rst_mask;
    output wire                     ana_prog;
    output wire [1:0]               ana_prog_target;
    output wire [PROG_IDX_BITS-1:0] ana_prog_index;
    output wire                     ana_prog_dir;
    // debug / interrupt
    output wire [2:0]               phase;
    output wire                     irq;

    // resets of the two domains
    wire                     rst_f_n, rst_s_n;
    // configuration from the CSR
    wire                     en;
    wire [15:0]              tick_div, rst_width, prog_set_width, prog_rst_width, prog_gap;
    wire [23:0]              window_len;
    wire [PROG_IDX_BITS-1:0] prog_index;
    wire [1:0]               prog_target;
    wire [7:0]               prog_code;
    wire [AW-1:0]            probe;
    wire                     prog_start, grst_req;
    // slow-domain copies of the timer configuration
    wire                     s_en, s_restart;
    wire [15:0]              s_tick_div;
    wire [23:0]              s_window_len;
    wire                     win_tgl;
    // status and events
    wire                     ro_busy, grst_busy, prog_busy, prog_done, cfg_busy;
    wire [2:0]               ctrl_phase;
    wire                     overrun, readout_done, spike_taken, ev_done;
    // window end -> controller
    wire                     sample_pend, sample_ack, ctrl_busy, win_busy, req_seen;
    // controller <-> AER transmitter
    wire                     ev_valid, ev_ready, tx_idle, tx_busy;
    wire [AW-1:0]            ev_addr;
    // controller <-> reset sequencer
    wire                     rs_start_ch, rs_start_all, rs_done, rs_busy;
    wire [CH_BITS-1:0]       rs_ch;
    wire [N_NEUR-1:0]        rs_mask;

    // phase: the controller's phase; when it is idle, PROGRAM while programming, else
    // INTEGRATE while CTRL.EN, else IDLE
    assign phase = (ctrl_phase != 3'd0) ? ctrl_phase :
                   prog_busy            ? 3'd6 :
                   en                   ? 3'd1 : 3'd0;

    // The readout domain has work at the next clk edge (clk_req holds the clock for it): an
    // APB transfer, a window end being taken, a readout / reset / programming sequence or
    // their one-cycle pulses, an AER handshake not back to zero, a configuration crossing.
    wire fast_busy = psel || win_busy || ctrl_busy || readout_done || rs_busy || prog_busy ||
                     tx_busy || cfg_busy;

    p2m_rst_sync u_rst_fast (.clk(clk),      .rst_n_in(rst_n), .rst_n_out(rst_f_n));
    p2m_rst_sync u_rst_slow (.clk(clk_slow), .rst_n_in(rst_n), .rst_n_out(rst_s_n));

    p2m_clk_req u_clk_req (
        .clk      (clk),
        .rst_n    (rst_f_n),
        .busy     (fast_busy),
        .win_tgl  (win_tgl),
        .req_seen (req_seen),
        .clk_req  (clk_req)
    );

    p2m_apb_csr #(
        .PROG_IDX_BITS (PROG_IDX_BITS),
        .PROBE_BITS    (AW)
    ) u_csr (
        .clk            (clk),
        .rst_n          (rst_f_n),
        .psel           (psel),
        .penable        (penable),
        .pwrite         (pwrite),
        .paddr          (paddr),
        .pwdata         (pwdata),
        .prdata         (prdata),
        .pready         (pready),
        .pslverr        (pslverr),
        .en             (en),
        .tick_div       (tick_div),
        .window_len     (window_len),
        .rst_width      (rst_width),
        .prog_set_width (prog_set_width),
        .prog_rst_width (prog_rst_width),
        .prog_gap       (prog_gap),
        .prog_index     (prog_index),
        .prog_target    (prog_target),
        .prog_code      (prog_code),
        .probe          (probe),
        .prog_start     (prog_start),
        .grst_req       (grst_req),
        .ro_busy        (ro_busy),
        .prog_busy      (prog_busy),
        .prog_done      (prog_done),
        .grst_busy      (grst_busy),
        .phase          (phase),
        .cfg_busy       (cfg_busy),
        .overrun        (overrun),
        .win_sampled    (sample_ack),
        .spike_taken    (spike_taken),
        .readout_done   (readout_done),
        .ev_done        (ev_done),
        .irq            (irq)
    );

    p2m_timer_cdc u_timer_cdc (
        .clk          (clk),
        .rst_n        (rst_f_n),
        .en           (en),
        .tick_div     (tick_div),
        .window_len   (window_len),
        .busy         (cfg_busy),
        .clk_slow     (clk_slow),
        .rst_slow_n   (rst_s_n),
        .s_en         (s_en),
        .s_tick_div   (s_tick_div),
        .s_window_len (s_window_len),
        .s_restart    (s_restart)
    );

    p2m_window_timer u_timer (
        .clk_slow   (clk_slow),
        .rst_n      (rst_s_n),
        .en         (s_en),
        .restart    (s_restart),
        .tick_div   (s_tick_div),
        .window_len (s_window_len),
        .win_tgl    (win_tgl)
    );

    p2m_win_sync u_win_sync (
        .clk         (clk),
        .rst_n       (rst_f_n),
        .win_tgl     (win_tgl),
        .ctrl_busy   (ctrl_busy),
        .sample_ack  (sample_ack),
        .sample_pend (sample_pend),
        .overrun     (overrun),
        .req_seen    (req_seen),
        .busy        (win_busy)
    );

    p2m_readout_ctrl #(
        .N_CH        (N_CH),
        .OUT_H       (OUT_H),
        .OUT_W       (OUT_W),
        .FLAG_SETTLE (FLAG_SETTLE)
    ) u_readout (
        .clk          (clk),
        .rst_n        (rst_f_n),
        .sample_pend  (sample_pend),
        .sample_ack   (sample_ack),
        .ctrl_busy    (ctrl_busy),
        .grst_req     (grst_req),
        .ro_busy      (ro_busy),
        .grst_busy    (grst_busy),
        .ctrl_phase   (ctrl_phase),
        .readout_done (readout_done),
        .spike_taken  (spike_taken),
        .ana_sample   (ana_sample),
        .ana_ch_sel   (ana_ch_sel),
        .ana_flags    (ana_flags),
        .ev_valid     (ev_valid),
        .ev_addr      (ev_addr),
        .ev_ready     (ev_ready),
        .tx_idle      (tx_idle),
        .rs_start_ch  (rs_start_ch),
        .rs_start_all (rs_start_all),
        .rs_ch        (rs_ch),
        .rs_mask      (rs_mask),
        .rs_done      (rs_done)
    );

    p2m_aer_tx #(
        .AW (AW)
    ) u_aer_tx (
        .clk      (clk),
        .rst_n    (rst_f_n),
        .ev_valid (ev_valid),
        .ev_addr  (ev_addr),
        .ev_ready (ev_ready),
        .tx_idle  (tx_idle),
        .ev_done  (ev_done),
        .busy     (tx_busy),
        .aer_req  (aer_req),
        .aer_addr (aer_addr),
        .aer_ack  (aer_ack)
    );

    p2m_reset_seq #(
        .CH_BITS (CH_BITS),
        .N_NEUR  (N_NEUR)
    ) u_reset_seq (
        .clk          (clk),
        .rst_n        (rst_f_n),
        .start_ch     (rs_start_ch),
        .start_all    (rs_start_all),
        .ch           (rs_ch),
        .mask         (rs_mask),
        .width        (rst_width),
        .busy         (rs_busy),
        .done         (rs_done),
        .ana_rst      (ana_rst),
        .ana_rst_all  (ana_rst_all),
        .ana_rst_ch   (ana_rst_ch),
        .ana_rst_mask (ana_rst_mask)
    );

    p2m_prog_seq #(
        .IDX_BITS  (PROG_IDX_BITS),
        .CODE_BITS (8)
    ) u_prog_seq (
        .clk             (clk),
        .rst_n           (rst_f_n),
        .start           (prog_start),
        .target          (prog_target),
        .index           (prog_index),
        .code            (prog_code),
        .set_width       (prog_set_width),
        .rst_width       (prog_rst_width),
        .gap             (prog_gap),
        .busy            (prog_busy),
        .done            (prog_done),
        .ana_prog        (ana_prog),
        .ana_prog_target (ana_prog_target),
        .ana_prog_index  (ana_prog_index),
        .ana_prog_dir    (ana_prog_dir)
    );

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- geometry limits
    // (derived widths cannot disagree; these are the limits of the register map)
    initial begin
        if (N_CH < 1 || OUT_H < 1 || OUT_W < 1 || N_POL < 1 || KSIZE < 1 ||
            FLAG_SETTLE < 1 || FLAG_SETTLE > 255 || PROG_IDX_BITS > 12 || AW > 32) begin
            $display("p2m_top: geometry outside the register map (N_CH %0d OUT_H %0d OUT_W %0d N_POL %0d KSIZE %0d FLAG_SETTLE %0d: PROG_ADDR.INDEX needs %0d <= 12 bits, PROBE/aer_addr %0d <= 32 bits)",
                     N_CH, OUT_H, OUT_W, N_POL, KSIZE, FLAG_SETTLE, PROG_IDX_BITS, AW);
            $finish;
        end
    end

    // ---------------------------------------------------------------- analog debug taps
    // Written by the testbench's analog bridge (cocotb) for the probed neuron; never read
    // by the logic. GTKWave draws them as analog traces.
    //   tap_dw_pos, tap_dw_neg : DW positions of the positive / negative accumulator, 0..1
    //   tap_vpre, tap_vth      : pre-activation and threshold voltages, volts
    // The two derived bits keep the taps referenced by the design (Icarus keeps and dumps
    // them) and show the probed neuron's analog comparator decision beside the digital one.
    /* verilator lint_off UNDRIVEN */
    /* verilator lint_off UNUSEDSIGNAL */
    real tap_dw_pos;
    real tap_dw_neg;
    real tap_vpre;
    real tap_vth;
    wire tap_vpre_above_vth = (tap_vpre > tap_vth);
    wire tap_pos_ahead      = (tap_dw_pos > tap_dw_neg);
    // the neuron on the taps (PROBE register, same packing as aer_addr)
    wire [CH_BITS-1:0] probe_ch = probe[AW-1 -: CH_BITS];
    wire [Y_BITS-1:0]  probe_y  = probe[X_BITS +: Y_BITS];
    wire [X_BITS-1:0]  probe_x  = probe[X_BITS-1:0];
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_on UNDRIVEN */
`else
    wire _unused_probe = &{1'b0, probe, 1'b0};
`endif
endmodule

`default_nettype wire
