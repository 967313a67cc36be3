/// A JSON grammar compiled against one vocabulary: the program (from a JSON Schema, or "any object") and the
/// vocabulary's shared token index. Compiled once per (schema, vocabulary); immutable and shareable across requests.
public final class JSONGrammar: Sendable {
    let program: GrammarProgram
    let index: TokenIndex

    private init(program: GrammarProgram, tokenizer: any Tokenizer) {
        self.program = program
        index = TokenIndex.shared(for: tokenizer.vocabulary)
    }

    /// Any JSON object (json_object mode): any keys, any values.
    public static func anyObject(tokenizer: any Tokenizer) -> JSONGrammar {
        JSONGrammar(program: .base(), tokenizer: tokenizer)
    }

    /// A grammar from a JSON Schema given as JSON text (the subset in Specs/structured-output.md). Throws a
    /// `ConstraintError` naming the unsupported keyword and its path, or what is malformed.
    public static func schema(_ jsonText: String, tokenizer: any Tokenizer) throws(ConstraintError) -> JSONGrammar {
        JSONGrammar(program: try SchemaCompiler.compile(jsonText), tokenizer: tokenizer)
    }
}
