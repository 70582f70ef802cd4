// Entry point: argument parsing lives in the command structs; the logic lives in the libraries.
import ArgumentParser

SecAggCommand.main()
