// p2m_top: the digital periphery of the P2M chip (contract: rtl/REGISTERS.md; architecture,
// timing and cycle counts: docs/rtl.md).
//
//   APB3 <-> p2m_apb_csr (registers, status, counters, pslverr, irq)
//   p2m_window_timer (clk)    : prescaler, window counter, sample request, overrun, gate flop,
//                               first flop of the aer_ack synchronizer
//   p2m_clk_gate              : clk_act = clk | ~gate_q (CLK_GATE = 1) or clk
//   p2m_readout_ctrl (clk_act): phases, ana_sample, ana_ch_sel, flag latch, priority encoder
//   p2m_aer_tx       (clk_act): aer_req / aer_addr / aer_ack 4-phase handshake
//   p2m_reset_seq    (clk_act): ana_rst, ana_rst_all, ana_rst_ch, ana_rst_mask
//   p2m_prog_seq     (clk_act): ana_prog, ana_prog_target, ana_prog_index, ana_prog_dir
//   (the CSR runs on clk_act too)
//
// Simulation only (`ifndef SYNTHESIS): the `real` analog debug taps tap_dw_pos, tap_dw_neg,
// tap_vpre, tap_vth, written by the testbench's analog bridge for the neuron selected by
// PROBE (probe_ch, probe_y, probe_x), and drawn by GTKWave as analog traces.
`timescale 1ns / 1ps

module p2m_top #(
    parameter N_CH          = 32,
    parameter OUT_H         = 16,
    parameter OUT_W         = 16,
    parameter CH_BITS       = 5,
    parameter Y_BITS        = 4,
    parameter X_BITS        = 4,
    parameter N_NEUR        = OUT_H * OUT_W,
    parameter PROG_IDX_BITS = 10,
    parameter FLAG_SETTLE   = 2,
    parameter CLK_GATE      = 1,      // 1: event-driven part on a gated clock (p2m_clk_gate)
    parameter AW            = CH_BITS + Y_BITS + X_BITS
) (
    input  wire                     clk,
    input  wire                     rst_n,
    // APB3
    input  wire                     psel,
    input  wire                     penable,
    input  wire                     pwrite,
    input  wire [11:0]              paddr,
    input  wire [31:0]              pwdata,
    output wire [31:0]              prdata,
    output wire                     pready,
    output wire                     pslverr,
    // AER
    output wire                     aer_req,
    input  wire                     aer_ack,
    output wire [AW-1:0]            aer_addr,
    // analog boundary
    output wire                     ana_sample,
    output wire [CH_BITS-1:0]       ana_ch_sel,
    input  wire [N_NEUR-1:0]        ana_flags,
    output wire                     ana_rst,
    output wire                     ana_rst_all,
    output wire [CH_BITS-1:0]       ana_rst_ch,
    output wire [N_NEUR-1:0]        ana_rst_mask,
    output wire                     ana_prog,
    output wire [1:0]               ana_prog_target,
    output wire [PROG_IDX_BITS-1:0] ana_prog_index,
    output wire                     ana_prog_dir,
    // debug / interrupt
    output wire [2:0]               phase,
    output wire                     irq
);
    // configuration from the CSR
    wire                     en;
    wire [15:0]              tick_div, rst_width, prog_set_width, prog_rst_width, prog_gap;
    wire [23:0]              window_len;
    wire [PROG_IDX_BITS-1:0] prog_index;
    wire [1:0]               prog_target;
    wire [7:0]               prog_code;
    wire [AW-1:0]            probe;
    wire                     prog_start, grst_req;
    // status and events
    wire                     ro_busy, grst_busy, prog_busy, prog_done;
    wire [2:0]               ctrl_phase;
    wire                     overrun, readout_done, spike_taken, ev_sent;
    // window timer <-> controller
    wire                     sample_pend, sample_ack, ctrl_busy;
    // clocks: clk (free running: window timer, clock-gate enable) and clk_act (gated)
    wire                     clk_act, ro_active;
    // controller <-> AER transmitter
    wire                     ev_valid, ev_ready, tx_idle, tx_active, ack_meta;
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

    // The gated domain is not at rest: an APB transfer, a sample the controller takes, an
    // overrun pulse, a readout/reset/programming sequence that moves at the next edge, the
    // AER transmitter about to move. A readout waiting for the AER receiver is at rest: the
    // timer opens the gate again when aer_ack changes (aer_ack != ack_meta). The timer
    // registers it (gate_q) for the next rising edge.
    wire gate_hold = psel || sample_ack || overrun || ro_active || rs_busy || prog_busy || tx_active;
    wire gate_q;

    p2m_clk_gate #(
        .ENABLE (CLK_GATE)
    ) u_clk_gate (
        .clk  (clk),
        .en_q (gate_q),
        .gclk (clk_act)
    );

    p2m_apb_csr #(
        .PROG_IDX_BITS (PROG_IDX_BITS),
        .PROBE_BITS    (AW)
    ) u_csr (
        .clk            (clk_act),
        .rst_n          (rst_n),
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
        .overrun        (overrun),
        .win_sampled    (ana_sample),
        .spike_taken    (spike_taken),
        .readout_done   (readout_done),
        .ev_sent        (ev_sent),
        .irq            (irq)
    );

    p2m_window_timer u_timer (
        .clk         (clk),
        .rst_n       (rst_n),
        .en          (en),
        .tick_div    (tick_div),
        .window_len  (window_len),
        .ctrl_busy   (ctrl_busy),
        .sample_ack  (sample_ack),
        .gate_hold   (gate_hold),
        .aer_ack     (aer_ack),
        .ack_meta    (ack_meta),
        .sample_pend (sample_pend),
        .overrun     (overrun),
        .gate_q      (gate_q)
    );

    p2m_readout_ctrl #(
        .N_CH        (N_CH),
        .CH_BITS     (CH_BITS),
        .OUT_H       (OUT_H),
        .OUT_W       (OUT_W),
        .Y_BITS      (Y_BITS),
        .X_BITS      (X_BITS),
        .N_NEUR      (N_NEUR),
        .FLAG_SETTLE (FLAG_SETTLE),
        .AW          (AW)
    ) u_readout (
        .clk          (clk_act),
        .rst_n        (rst_n),
        .sample_pend  (sample_pend),
        .sample_ack   (sample_ack),
        .ctrl_busy    (ctrl_busy),
        .active       (ro_active),
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
        .clk       (clk_act),
        .rst_n     (rst_n),
        .ev_valid  (ev_valid),
        .ev_addr   (ev_addr),
        .ev_ready  (ev_ready),
        .tx_idle   (tx_idle),
        .ev_sent   (ev_sent),
        .tx_active (tx_active),
        .aer_req   (aer_req),
        .aer_addr  (aer_addr),
        .ack_meta  (ack_meta)
    );

    p2m_reset_seq #(
        .CH_BITS (CH_BITS),
        .N_NEUR  (N_NEUR)
    ) u_reset_seq (
        .clk          (clk_act),
        .rst_n        (rst_n),
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
        .clk             (clk_act),
        .rst_n           (rst_n),
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
    // ---------------------------------------------------------------- parameter check
    initial begin
        if (N_NEUR != OUT_H * OUT_W || N_CH < 1 || N_CH > (1 << CH_BITS) ||
            OUT_H > (1 << Y_BITS) || OUT_W > (1 << X_BITS) || FLAG_SETTLE < 1 ||
            FLAG_SETTLE > 255 || PROG_IDX_BITS < 1 || PROG_IDX_BITS > 12 || AW > 32) begin
            $display("p2m_top: inconsistent parameters (N_CH %0d CH_BITS %0d OUT_H %0d Y_BITS %0d OUT_W %0d X_BITS %0d N_NEUR %0d FLAG_SETTLE %0d PROG_IDX_BITS %0d)",
                     N_CH, CH_BITS, OUT_H, Y_BITS, OUT_W, X_BITS, N_NEUR, FLAG_SETTLE, PROG_IDX_BITS);
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
