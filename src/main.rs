fn main() {
    std::process::exit(ifind::commands::main());
}
