// Pure-Icarus speed harness of p2m_top (no cocotb): idle or readout-heavy load.
//   iverilog -g2012 -DEN=1 -DN=300000 -o speed.vvp $(grep -v '^#' rtl/files.f) tb/hdl/speed_harness.v
//   time vvp -n speed.vvp
// EN=1: every flag set, windows of 2000 one-cycle ticks, an immediate AER receiver
// (aer_ack follows aer_req one clock later); EN=0: the chip idles. N: simulated cycles.
// -DLATE (with EN=1): a receiver that answers 100 cycles late (aer_ack rises 1003 ns after
// aer_req rises, falls 7 ns after it falls): the AER stall load of tb/RTL_BUGS.md #2.
`timescale 1ns/1ps
module speed_harness;
  reg clk = 0, rst_n = 0;
  reg psel = 0, penable = 0, pwrite = 0;
  reg [11:0] paddr = 0;
  reg [31:0] pwdata = 0;
  wire [31:0] prdata;
  wire pready, pslverr, aer_req, ana_sample;
  reg aer_ack = 0;
  wire [12:0] aer_addr;
  wire [4:0] ana_ch_sel;
  reg [255:0] ana_flags = {256{1'b1}};
  p2m_top dut(.clk(clk), .rst_n(rst_n), .psel(psel), .penable(penable), .pwrite(pwrite),
              .paddr(paddr), .pwdata(pwdata), .prdata(prdata), .pready(pready),
              .pslverr(pslverr), .aer_req(aer_req), .aer_ack(aer_ack), .aer_addr(aer_addr),
              .ana_sample(ana_sample), .ana_ch_sel(ana_ch_sel), .ana_flags(ana_flags));
  always #5 clk = ~clk;
`ifdef LATE
  always @(posedge aer_req) #1003 aer_ack = 1;
  always @(negedge aer_req) #7 aer_ack = 0;
`else
  always @(posedge clk) aer_ack <= aer_req;
`endif
  task wr(input [11:0] a, input [31:0] d);
    begin
      @(posedge clk); psel <= 1; pwrite <= 1; paddr <= a; pwdata <= d;
      @(posedge clk); penable <= 1;
      @(posedge clk); psel <= 0; penable <= 0;
    end
  endtask
  initial begin
    #23 rst_n = 1;
    #500;
    if (`EN) begin wr(12'h00C, 1); wr(12'h010, 2000); wr(12'h004, 1); end
    #(`N * 10);
    $finish;
  end
endmodule
