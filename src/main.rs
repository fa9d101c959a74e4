fn main() { invarlockd::hello(); }
