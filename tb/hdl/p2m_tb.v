// p2m_tb: the cocotb toplevel of the chip-level testbenches (docs/verification.md).
//
// p2m_top (u_dut) with the geometry of this module's parameters, and around it what the
// chip's environment provides:
//   * u_slow      : the always-on slow clock clk_slow (SLOW_PERIOD_PS);
//   * u_clk_src   : the readout clock's source: runs clk while the chip's clk_req or the
//                   host's host_clk_req (Python: the APB master and explicit waits) is high,
//                   START_PS after a request, on the PHASE_PS grid (p2m_tb_agents.v);
//   * u_aer_rx    : the HDL AER receiver and event FIFO, in charge of aer_ack when hdl_aer = 1
//                   (else Python's receiver drives the reg aer_ack);
//   * u_analog    : the HDL flag memory and reset-pulse log, in charge of ana_flags when
//                   hdl_flags = 1 (else Python drives the reg ana_flags).
// Every port of p2m_top appears here under its own name (inputs as regs Python drives,
// outputs as wires), so agents take a bus object built from this scope. The geometry and
// the clock timing are parameters the testbench reads (tb.config.Geometry / ClockTiming).
`timescale 1ps / 1ps

module p2m_tb #(
    parameter N_CH           = 32,
    parameter OUT_H          = 16,
    parameter OUT_W          = 16,
    parameter FLAG_SETTLE    = 2,
    parameter N_POL          = 2,         // input polarities (programming index space)
    parameter KSIZE          = 3,         // kernel size (programming index space)
    parameter CLK_PERIOD_PS  = 10000,     // readout clock, 100 MHz
    parameter CLK_PHASE_PS   = 3000,      // its rising edges at t = CLK_PHASE_PS mod period
    parameter CLK_START_PS   = 250000,    // clock source start-up time
    parameter SLOW_PERIOD_PS = 1000000    // always-on clock, 1 MHz
);
    // the same derivation as p2m_top
    localparam CH_BITS = (N_CH  > 1) ? $clog2(N_CH)  : 1;
    localparam Y_BITS  = (OUT_H > 1) ? $clog2(OUT_H) : 1;
    localparam X_BITS  = (OUT_W > 1) ? $clog2(OUT_W) : 1;
    localparam N_NEUR  = OUT_H * OUT_W;
    localparam AW      = CH_BITS + Y_BITS + X_BITS;
    localparam N_WEIGHT = N_CH * N_POL * KSIZE * KSIZE;          // as in p2m_top
    localparam W_BITS  = (N_WEIGHT > 1) ? $clog2(N_WEIGHT) : 1;
    localparam PROG_IDX_BITS = (W_BITS > CH_BITS) ? W_BITS : CH_BITS;

    // ---------------------------------------------------------------- driven by Python
    reg               rst_n = 1'b1;   // the test asserts it first (an edge: async reset)
    reg               host_clk_req = 1'b0;
    reg               hdl_aer = 1'b0;
    reg               hdl_flags = 1'b0;
    reg               psel = 1'b0, penable = 1'b0, pwrite = 1'b0;
    reg  [11:0]       paddr = 12'd0;
    reg  [31:0]       pwdata = 32'd0;
    reg               aer_ack = 1'b0;                 // Python's receiver
    reg  [N_NEUR-1:0] ana_flags = {N_NEUR{1'b0}};     // Python's analog agent

    // ---------------------------------------------------------------- clocks
    wire clk, clk_slow, clk_req;
    p2m_tb_slow_clock #(.PERIOD_PS(SLOW_PERIOD_PS)) u_slow (.clk(clk_slow));
    p2m_tb_clock_source #(.PERIOD_PS(CLK_PERIOD_PS), .PHASE_PS(CLK_PHASE_PS),
                          .START_PS(CLK_START_PS)) u_clk_src (.req(clk_req | host_clk_req),
                                                              .clk(clk));

    // ---------------------------------------------------------------- the chip
    wire [31:0]        prdata;
    wire               pready, pslverr, aer_req, ana_sample, ana_rst, ana_rst_all;
    wire               ana_prog, ana_prog_dir, irq;
    wire [AW-1:0]      aer_addr;
    wire [CH_BITS-1:0] ana_ch_sel, ana_rst_ch;
    wire [N_NEUR-1:0]  ana_rst_mask, flags_hdl;
    wire [1:0]         ana_prog_target;
    wire [PROG_IDX_BITS-1:0] ana_prog_index;
    wire [2:0]         phase;
    wire               ack_hdl;
    wire               aer_ack_dut   = hdl_aer   ? ack_hdl   : aer_ack;
    wire [N_NEUR-1:0]  ana_flags_dut = hdl_flags ? flags_hdl : ana_flags;

    p2m_top #(
        .N_CH (N_CH), .OUT_H (OUT_H), .OUT_W (OUT_W), .N_POL (N_POL), .KSIZE (KSIZE),
        .FLAG_SETTLE (FLAG_SETTLE)
    ) u_dut (
        .clk (clk), .clk_slow (clk_slow), .rst_n (rst_n), .clk_req (clk_req),
        .psel (psel), .penable (penable), .pwrite (pwrite), .paddr (paddr), .pwdata (pwdata),
        .prdata (prdata), .pready (pready), .pslverr (pslverr),
        .aer_req (aer_req), .aer_ack (aer_ack_dut), .aer_addr (aer_addr),
        .ana_sample (ana_sample), .ana_ch_sel (ana_ch_sel), .ana_flags (ana_flags_dut),
        .ana_rst (ana_rst), .ana_rst_all (ana_rst_all), .ana_rst_ch (ana_rst_ch),
        .ana_rst_mask (ana_rst_mask), .ana_prog (ana_prog), .ana_prog_target (ana_prog_target),
        .ana_prog_index (ana_prog_index),
        .ana_prog_dir (ana_prog_dir), .phase (phase), .irq (irq)
    );

    // ---------------------------------------------------------------- HDL agents
    p2m_tb_aer_rx #(.AW (AW), .DEPTH (N_CH * N_NEUR), .PERIOD_PS (CLK_PERIOD_PS)) u_aer_rx (
        .enable (hdl_aer), .rst_n (rst_n), .aer_req (aer_req), .aer_addr (aer_addr),
        .aer_ack (ack_hdl)
    );

    p2m_tb_analog #(.N_CH (N_CH), .CH_BITS (CH_BITS), .N_NEUR (N_NEUR),
                    .PERIOD_PS (CLK_PERIOD_PS),
                    .SETTLE_PS (CLK_PERIOD_PS * (2 * FLAG_SETTLE - 1) / 2)) u_analog (
        .rst_n (rst_n), .ana_ch_sel (ana_ch_sel), .flags (flags_hdl), .ana_rst (ana_rst),
        .ana_rst_all (ana_rst_all), .ana_rst_ch (ana_rst_ch), .ana_rst_mask (ana_rst_mask)
    );
endmodule
