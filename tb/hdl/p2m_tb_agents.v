// HDL-side testbench agents of p2m_tb (docs/verification.md "HDL agents"): the clock
// sources, an AER receiver with seeded pseudo-random delays and an event FIFO, and the
// analog side's flag memory with a reset-pulse log. They keep Python out of the per-edge,
// per-spike and per-channel paths: Python writes a window's flags once and reads the
// window's events and reset pulses once (at the next ana_sample).
// Time unit: picoseconds (all delays below are in ps).
`timescale 1ps / 1ps

// ------------------------------------------------------------------------------------------
// p2m_tb_clock_source: the readout clock's source (an oscillator with an enable). While
// `req` is high it runs `clk`; after `req` rises it waits START_PS, then starts with a rising
// edge on the grid t = PHASE_PS (mod PERIOD_PS) (so no clk edge coincides with a clk_slow
// edge: simulators then agree cycle for cycle; the RTL itself accepts any phase). It checks
// `req` once per period, before each rising edge: a period is never cut (no runt pulse), and
// a low `req` stops the clock low. `starts` and `edges` count starts and rising edges.
module p2m_tb_clock_source #(
    parameter PERIOD_PS = 10000,      // 100 MHz
    parameter PHASE_PS  = 3000,
    parameter START_PS  = 250000      // start-up time after req rises
) (
    input  wire req,
    output reg  clk
);
    integer starts = 0;
    integer edges  = 0;
    reg [63:0] t;

    initial begin
        clk = 1'b0;
        forever begin
            wait (req === 1'b1);
            starts = starts + 1;
            #(START_PS);
            t = $time;
            #((PHASE_PS + PERIOD_PS - (t % PERIOD_PS)) % PERIOD_PS);
            while (req === 1'b1) begin
                clk   = 1'b1;
                edges = edges + 1;
                #(PERIOD_PS / 2);
                clk   = 1'b0;
                #(PERIOD_PS - PERIOD_PS / 2);
            end
        end
    end
endmodule

// ------------------------------------------------------------------------------------------
// p2m_tb_slow_clock: the always-on slow clock; first rising edge at PERIOD_PS / 2.
module p2m_tb_slow_clock #(
    parameter PERIOD_PS = 1000000     // 1 MHz
) (
    output reg clk
);
    integer edges = 0;

    initial begin
        clk = 1'b0;
        forever begin
            #(PERIOD_PS / 2);
            clk   = 1'b1;
            edges = edges + 1;
            #(PERIOD_PS - PERIOD_PS / 2);
            clk   = 1'b0;
        end
    end
endmodule

// ------------------------------------------------------------------------------------------
// p2m_tb_aer_rx: 4-phase AER receiver with seeded pseudo-random delays (xorshift32 in
// `rng`, written by the test before `enable`), an event FIFO and a protocol checker.
//   ack delay    : uniform 0 .. max_ack_ps after aer_req rises; release delay: uniform
//                  0 .. max_rel_ps after it falls; a delay that would land on the clk grid
//                  (a multiple of PERIOD_PS / 2 after the request edge) is moved by 1/4 period.
//   FIFO         : the addresses in arrival order (at aer_req rise), PACK per word: event
//                  i is ev_mem[i / PACK][(i % PACK) * AW +: AW] (one simulator access reads
//                  PACK events); the test reads ev_count of them and clears it once per
//                  window (ev_count <= DEPTH).
//   checks       : aer_req rises while aer_ack is high; aer_addr changed less than one
//                  clk period before aer_req rose (bundled data); aer_addr changes while
//                  aer_req is high; aer_req falls before aer_ack rose (rst_n low excepted).
//                  `violations` counts them; `first_violation` (kind 1..4) and its time.
module p2m_tb_aer_rx #(
    parameter AW        = 13,
    parameter DEPTH     = 8192,
    parameter PERIOD_PS = 10000,
    parameter PACK      = 32          // events per FIFO word
) (
    input  wire          enable,
    input  wire          rst_n,
    input  wire          aer_req,
    input  wire [AW-1:0] aer_addr,
    output reg           aer_ack
);
    reg [31:0]   rng = 32'h1;
    reg [31:0]   max_ack_ps = 0;
    reg [31:0]   max_rel_ps = 0;
    localparam WORDS = (DEPTH + PACK - 1) / PACK;
    reg [PACK*AW-1:0] ev_mem [0:WORDS-1];
    integer      ev_count = 0;
    integer      ev_total = 0;
    integer      violations = 0;
    integer      first_violation = 0;
    reg [63:0]   first_violation_ps = 0;
    reg [63:0]   t_addr = 0, t_rise = 0, d = 0;

    integer      k;
    initial begin
        aer_ack = 1'b0;
        for (k = 0; k < WORDS; k = k + 1) ev_mem[k] = {PACK*AW{1'b0}};   // no X lanes to read
    end

    task violate(input integer kind);
        begin
            if (violations == 0) begin
                first_violation    = kind;
                first_violation_ps = $time;
            end
            violations = violations + 1;
        end
    endtask

    task draw(input [31:0] max_ps);   // d = the next delay
        begin
            rng = rng ^ (rng << 13);
            rng = rng ^ (rng >> 17);
            rng = rng ^ (rng << 5);
            d = (max_ps == 0) ? 0 : rng % (max_ps + 1);
            if (d != 0 && d % (PERIOD_PS / 2) == 0) d = d + PERIOD_PS / 4;
        end
    endtask

    always @(aer_addr) begin
        t_addr = $time;
        if (enable && aer_req === 1'b1 && rst_n === 1'b1) violate(3);
    end

    always @(posedge aer_req) begin
        if (enable && rst_n === 1'b1) begin
            t_rise = $time;
            if (aer_ack !== 1'b0) violate(1);
            if (t_rise - t_addr < PERIOD_PS) violate(2);
            if (ev_count < DEPTH) begin
                ev_mem[ev_count / PACK][(ev_count % PACK) * AW +: AW] = aer_addr;
                ev_count = ev_count + 1;
            end
            ev_total = ev_total + 1;
            if (max_ack_ps != 0) begin
                draw(max_ack_ps);
                if (d != 0) #(d);
            end
            if (aer_req === 1'b1) aer_ack = 1'b1;
        end
    end

    always @(negedge aer_req) begin
        if (enable) begin
            if (aer_ack !== 1'b1 && rst_n === 1'b1) violate(4);
            if (max_rel_ps != 0) begin
                draw(max_rel_ps);
                if (d != 0) #(d);
            end
            aer_ack = 1'b0;
        end
    end
endmodule

// ------------------------------------------------------------------------------------------
// p2m_tb_analog: the analog side for the HDL mode. `mem` holds the latched comparator
// flags of the current window, FPACK channels per word: channel c is
// mem[c / FPACK][(c % FPACK) * N_NEUR +: N_NEUR] (the test writes them at ana_sample, one
// simulator access per word, and then increments `gen`); `flags` answers ana_ch_sel, first
// with the complement of the right flags for SETTLE_PS (a settling comparator mux: an RTL
// that samples too early reads wrong flags), then with the right ones. Reset pulses: entry
// i = {rise, fall, all, 7'd0, ch, width} of each ana_rst pulse in order (rise and fall:
// 64-bit times in ps, the analog bridge applies each pulse at its instant with the width the
// RTL produced; all: 1 bit, ch: 8 bits, width: 16 bits, clk periods), a ring of DEPTH
// entries, RPACK per word: entry j of the ring is rst_log[j / RPACK][(j % RPACK) * 160 +:
// 160] (one simulator access reads RPACK pulses); `rst_count` counts every pulse since the start
// (never cleared: the test keeps its own read pointer, so a read can never race with a
// pulse logged in the same time step); `t_rst` holds the
// rise of the pulse in progress; a channel pulse whose ana_rst_mask differs from mem[ch]
// counts in mask_errors.
module p2m_tb_analog #(
    parameter N_CH      = 32,
    parameter CH_BITS   = 5,
    parameter N_NEUR    = 256,
    parameter DEPTH     = 1024,       // reset log entries (a multiple of RPACK)
    parameter RPACK     = 16,         // reset log entries per word
    parameter FPACK     = 8,          // channels per flag memory word
    parameter PERIOD_PS = 10000,
    parameter SETTLE_PS = 15000
) (
    input  wire               rst_n,
    input  wire [CH_BITS-1:0] ana_ch_sel,
    output reg  [N_NEUR-1:0]  flags,
    input  wire               ana_rst,
    input  wire               ana_rst_all,
    input  wire [CH_BITS-1:0] ana_rst_ch,
    input  wire [N_NEUR-1:0]  ana_rst_mask
);
    localparam FWORDS = (N_CH + FPACK - 1) / FPACK;
    reg [FPACK*N_NEUR-1:0] mem [0:FWORDS-1];
    reg [31:0]       gen = 0;
    reg [RPACK*160-1:0] rst_log [0:DEPTH/RPACK-1];
    integer          rst_count = 0;
    integer          mask_errors = 0;
    reg [63:0]       t_rst = 0, width = 0;
    reg              r_all = 1'b0;
    reg [CH_BITS-1:0] r_ch = 0;
    integer          k;

    initial begin
        if (DEPTH % RPACK != 0) $fatal(1, "p2m_tb_analog: DEPTH must be a multiple of RPACK");
        for (k = 0; k < FWORDS; k = k + 1) mem[k] = {FPACK*N_NEUR{1'b0}};
        for (k = 0; k < DEPTH / RPACK; k = k + 1) rst_log[k] = {RPACK*160{1'b0}};
        flags = {N_NEUR{1'b0}};
    end

    always @(ana_ch_sel or gen) begin
        flags = ~mem[ana_ch_sel / FPACK][(ana_ch_sel % FPACK) * N_NEUR +: N_NEUR];
        #(SETTLE_PS);
        flags = mem[ana_ch_sel / FPACK][(ana_ch_sel % FPACK) * N_NEUR +: N_NEUR];
    end

    always @(posedge ana_rst) begin
        t_rst = $time;
        r_all = ana_rst_all;
        r_ch  = ana_rst_ch;
        if (!ana_rst_all &&
            ana_rst_mask !== mem[ana_rst_ch / FPACK][(ana_rst_ch % FPACK) * N_NEUR +: N_NEUR])
            mask_errors = mask_errors + 1;
    end

    always @(negedge ana_rst) begin
        if (rst_n === 1'b1) begin
            width = ($time - t_rst + PERIOD_PS / 2) / PERIOD_PS;
            rst_log[(rst_count % DEPTH) / RPACK][((rst_count % DEPTH) % RPACK) * 160 +: 160] =
                {t_rst, $time, r_all, 7'd0, 8'd0 | r_ch, width[15:0]};
            rst_count = rst_count + 1;
        end
    end
endmodule
