// p2m_fpga_top: the FPGA prototype wrapper of p2m_top (`make fpga`, scripts/fpga.py;
// numbers in docs/rtl.md "FPGA prototype").
//
// p2m_top has two 256-bit analog-boundary buses (ana_flags in, ana_rst_mask out) that no
// FPGA package has pins for. On a prototype board the analog array is emulated beside the
// chip logic, so this wrapper puts the two buses on chip:
//   * the comparator flags come from a flag memory (one N_NEUR-bit word per channel, as
//     32-bit slices), written by the host through the APB write-data pins while fl_we is
//     high (fl_addr = {channel, slice}), read synchronously at ana_ch_sel: the read data
//     are stable one clk edge after ana_ch_sel changes, within FLAG_SETTLE = 2
//     (REGISTERS.md "Ports": sampled at the 2nd edge after the write of ana_ch_sel);
//   * the reset mask is registered at each ana_rst pulse and read back 32 bits at a time
//     (mask_sel), as the emulator's accumulators would consume it.
// Every other port of p2m_top is a pin. The default geometry only (N_NEUR a multiple of 32).
`timescale 1ns / 1ps
`default_nettype none

module p2m_fpga_top #(
    parameter N_CH  = 32,
    parameter OUT_H = 16,
    parameter OUT_W = 16
) (
    input  wire        clk,
    input  wire        clk_slow,
    input  wire        rst_n,
    output wire        clk_req,
    input  wire        psel,
    input  wire        penable,
    input  wire        pwrite,
    input  wire [11:0] paddr,
    input  wire [31:0] pwdata,
    output wire [31:0] prdata,
    output wire        pready,
    output wire        pslverr,
    output wire        aer_req,
    input  wire        aer_ack,
    output wire [$clog2(N_CH)+$clog2(OUT_H)+$clog2(OUT_W)-1:0] aer_addr,
    output wire        ana_sample,
    output wire [$clog2(N_CH)-1:0] ana_ch_sel,
    output wire        ana_rst,
    output wire        ana_rst_all,
    output wire [$clog2(N_CH)-1:0] ana_rst_ch,
    output wire        ana_prog,
    output wire [1:0]  ana_prog_target,
    output wire [9:0]  ana_prog_index,
    output wire        ana_prog_dir,
    output wire [2:0]  phase,
    output wire        irq,
    // the emulated analog side
    input  wire        fl_we,                                   // write pwdata into the flag memory
    input  wire [$clog2(N_CH)+$clog2(OUT_H*OUT_W/32)-1:0] fl_addr,  // {channel, 32-bit slice}
    input  wire [$clog2(OUT_H*OUT_W/32)-1:0] mask_sel,          // slice of the last reset mask
    output reg  [31:0] mask_q
);
    localparam N_NEUR  = OUT_H * OUT_W;
    localparam N_SL    = N_NEUR / 32;
    localparam SL_BITS = $clog2(N_SL);
    localparam CH_BITS = $clog2(N_CH);

    wire [N_NEUR-1:0] ana_flags, ana_rst_mask;

    p2m_top #(.N_CH (N_CH), .OUT_H (OUT_H), .OUT_W (OUT_W)) u_top (
        .clk (clk), .clk_slow (clk_slow), .rst_n (rst_n), .clk_req (clk_req),
        .psel (psel), .penable (penable), .pwrite (pwrite), .paddr (paddr), .pwdata (pwdata),
        .prdata (prdata), .pready (pready), .pslverr (pslverr),
        .aer_req (aer_req), .aer_ack (aer_ack), .aer_addr (aer_addr),
        .ana_sample (ana_sample), .ana_ch_sel (ana_ch_sel), .ana_flags (ana_flags),
        .ana_rst (ana_rst), .ana_rst_all (ana_rst_all), .ana_rst_ch (ana_rst_ch),
        .ana_rst_mask (ana_rst_mask), .ana_prog (ana_prog), .ana_prog_target (ana_prog_target),
        .ana_prog_index (ana_prog_index), .ana_prog_dir (ana_prog_dir), .phase (phase),
        .irq (irq)
    );

    // flag memory: N_SL memories of N_CH x 32 bits, synchronous read at ana_ch_sel
    genvar s;
    generate
        for (s = 0; s < N_SL; s = s + 1) begin : g_slice
            reg [31:0] mem [0:N_CH-1];
            reg [31:0] rd;
            always @(posedge clk) begin
                if (fl_we && fl_addr[SL_BITS-1:0] == s)
                    mem[fl_addr[SL_BITS+CH_BITS-1:SL_BITS]] <= pwdata;
                rd <= mem[ana_ch_sel];
            end
            assign ana_flags[s*32 +: 32] = rd;
        end
    endgenerate

    // the last channel reset mask, read back one slice at a time
    reg [N_NEUR-1:0] mask_last;
    always @(posedge clk) begin
        if (ana_rst && !ana_rst_all) mask_last <= ana_rst_mask;
        mask_q <= mask_last[mask_sel*32 +: 32];
    end
endmodule

`default_nettype wire
