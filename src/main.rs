fn main() {
    std::process::exit(invarlockd::cli::main());
}
