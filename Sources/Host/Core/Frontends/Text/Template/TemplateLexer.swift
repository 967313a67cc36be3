/// One token of template source.
struct TemplateToken: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// Literal text between tags, after whitespace control.
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: + - / // * % ** ~ [ ] ( ) { } == != > >= < <= = . : | , ;
        case op(String)
        case end
    }

    let kind: Kind
    /// Index of the token's first Unicode scalar in the normalized source.
    let offset: Int
}

/// Splits template source into tokens exactly as jinja2's lexer does under transformers' settings:
/// `trim_blocks` (drop the first newline after a block or comment tag), `lstrip_blocks` (drop spaces and tabs
/// before a block or comment tag that starts a line), `-` on a tag strips all whitespace on that side, `+`
/// on an opening tag turns `lstrip_blocks` off for it, newlines are normalized to "\n" and one trailing newline
/// of the source is dropped.
struct TemplateLexer {
    /// jinja2's Environment options that change lexing.
    struct Options: Sendable {
        var trimBlocks = true
        var lstripBlocks = true
    }

    private let source: [Unicode.Scalar]
    private let options: Options
    private var position = 0
    private var tokens: [TemplateToken] = []
    /// Whether the text that follows starts a line (jinja2's `line_starting`).
    private var lineStarting = true

    /// The normalized source and its line starts, for turning offsets into line/column.
    let lineMap: LineMap

    init(_ text: String, options: Options = Options()) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR { previousWasCR = false; continue }
            previousWasCR = scalar == "\r"
            scalars.append(scalar == "\r" ? "\n" : scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        self.source = scalars
        self.options = options
        self.lineMap = LineMap(scalars)
    }

    /// All tokens, ending with `.end`.
    mutating func tokenize() throws(TemplateError) -> [TemplateToken] {
        while position < source.count {
            try lexRoot()
        }
        tokens.append(TemplateToken(kind: .end, offset: source.count))
        return tokens
    }

    // MARK: Text and tag openings

    private enum Opening { case variable, block, comment, raw(bodyStart: Int) }

    private mutating func lexRoot() throws(TemplateError) {
        guard let (tagStart, opening, sign) = findOpening(from: position) else {
            emitText(source[position...], at: position)
            position = source.count
            return
        }
        emitText(stripBeforeTag(source[position..<tagStart], sign: sign, isBlock: !isVariable(opening)), at: position)
        lineStarting = false
        let afterSign = tagStart + 2 + (sign == nil ? 0 : 1)
        switch opening {
        case .variable:
            tokens.append(TemplateToken(kind: .variableBegin, offset: tagStart))
            position = afterSign
            try lexTag(closer: "}")
        case .block:
            tokens.append(TemplateToken(kind: .blockBegin, offset: tagStart))
            position = afterSign
            try lexTag(closer: "%")
        case .comment:
            position = afterSign
            try skipComment(openedAt: tagStart)
        case .raw(let bodyStart):
            position = bodyStart
            try lexRawBody(openedAt: tagStart)
        }
    }

    /// The text before a tag after whitespace control: `-` strips all trailing whitespace; otherwise, before a
    /// block or comment tag, `lstrip_blocks` drops the spaces and tabs between the start of the line and the tag.
    private func stripBeforeTag(_ text: ArraySlice<Unicode.Scalar>, sign: Unicode.Scalar?,
                                isBlock: Bool) -> ArraySlice<Unicode.Scalar> {
        if sign == "-" { return text[..<rstripEnd(text)] }
        guard sign != "+", options.lstripBlocks, isBlock else { return text }
        let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? text.startIndex
        guard lineStart > text.startIndex || lineStarting, lineStart < text.endIndex,
              text[lineStart...].allSatisfy(Self.isSpace) else { return text }
        return text[..<lineStart]
    }

    private func isVariable(_ opening: Opening) -> Bool {
        if case .variable = opening { return true }
        return false
    }

    /// The next `{{`, `{%` or `{#` at or after `start`, with its whitespace-control sign.
    private func findOpening(from start: Int) -> (Int, Opening, Unicode.Scalar?)? {
        var index = start
        while index + 1 < source.count {
            if source[index] == "{" {
                let kind = source[index + 1]
                if kind == "{" || kind == "%" || kind == "#" {
                    let signCandidate = index + 2 < source.count ? source[index + 2] : nil
                    let sign = signCandidate == "-" || signCandidate == "+" ? signCandidate : nil
                    if kind == "%", let bodyStart = rawOpeningEnd(after: index + 2 + (sign == nil ? 0 : 1)) {
                        return (index, .raw(bodyStart: bodyStart), sign)
                    }
                    return (index, kind == "{" ? .variable : kind == "%" ? .block : .comment, sign)
                }
            }
            index += 1
        }
        return nil
    }

    /// If `{% raw %}` starts here (after `{%` and its sign), where its body begins.
    private func rawOpeningEnd(after start: Int) -> Int? {
        var index = skipSpace(from: start)
        guard matches("raw", at: index) else { return nil }
        index = skipSpace(from: index + 3)
        if matches("-%}", at: index) { return skipSpace(from: index + 3) }
        if matches("%}", at: index) { return index + 2 }
        return nil
    }

    private mutating func lexRawBody(openedAt start: Int) throws(TemplateError) {
        var index = position
        while index + 1 < source.count {
            if source[index] == "{", source[index + 1] == "%" {
                let signCandidate = index + 2 < source.count ? source[index + 2] : nil
                let sign = signCandidate == "-" || signCandidate == "+" ? signCandidate : nil
                var cursor = skipSpace(from: index + 2 + (sign == nil ? 0 : 1))
                if matches("endraw", at: cursor) {
                    cursor = skipSpace(from: cursor + 6)
                    if let end = closeTag("%", at: cursor) {
                        emitText(stripBeforeTag(source[position..<index], sign: sign, isBlock: true), at: position)
                        position = end
                        lineStarting = source[end - 1] == "\n"
                        return
                    }
                }
            }
            index += 1
        }
        throw error("missing end of raw directive", at: start)
    }

    // MARK: Inside tags

    private mutating func lexTag(closer: Unicode.Scalar) throws(TemplateError) {
        var brackets: [Unicode.Scalar] = []
        while position < source.count {
            if brackets.isEmpty, let end = closeTag(closer, at: position) {
                tokens.append(TemplateToken(kind: closer == "}" ? .variableEnd : .blockEnd, offset: position))
                lineStarting = source[end - 1] == "\n"
                position = end
                return
            }
            let scalar = source[position]
            if Self.isSpace(scalar) {
                position += 1
            } else if let (kind, end) = try number(at: position) {
                tokens.append(TemplateToken(kind: kind, offset: position))
                position = end
            } else if Self.isNameStart(scalar) {
                var end = position + 1
                while end < source.count, Self.isNameContinue(source[end]) { end += 1 }
                tokens.append(TemplateToken(kind: .name(TextOps.string(source[position..<end])), offset: position))
                position = end
            } else if scalar == "'" || scalar == "\"" {
                let (text, end) = try stringLiteral(at: position)
                tokens.append(TemplateToken(kind: .string(text), offset: position))
                position = end
            } else if let op = operatorToken(at: position) {
                try balance(op, &brackets)
                tokens.append(TemplateToken(kind: .op(op), offset: position))
                position += op.unicodeScalars.count
            } else {
                throw error("unexpected char '\(scalar)'", at: position)
            }
        }
        throw error(closer == "}" ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'",
                    at: position)
    }

    /// The end of a closing tag (`}}` or `%}`, with `-`/`+` and trim_blocks applied) at `index`, if one is there.
    private func closeTag(_ closer: Unicode.Scalar, at index: Int) -> Int? {
        let tag = String(closer) + "}"
        if matches("-" + tag, at: index) { return skipSpace(from: index + 3) }
        if closer == "%", matches("+" + tag, at: index) { return index + 3 }
        if matches(tag, at: index) {
            let end = index + 2
            if closer == "%", options.trimBlocks, end < source.count, source[end] == "\n" { return end + 1 }
            return end
        }
        return nil
    }

    private mutating func skipComment(openedAt start: Int) throws(TemplateError) {
        var index = position
        while index + 1 < source.count {
            if source[index] == "+", matches("+#}", at: index) { finishComment(at: index + 3); return }
            if source[index] == "-", matches("-#}", at: index) { finishComment(at: skipSpace(from: index + 3)); return }
            if matches("#}", at: index) {
                var end = index + 2
                if options.trimBlocks, end < source.count, source[end] == "\n" { end += 1 }
                finishComment(at: end)
                return
            }
            index += 1
        }
        throw error("missing end of comment tag", at: start)
    }

    private mutating func finishComment(at end: Int) {
        lineStarting = source[end - 1] == "\n"
        position = end
    }

    private func balance(_ op: String, _ brackets: inout [Unicode.Scalar]) throws(TemplateError) {
        switch op {
        case "(": brackets.append(")")
        case "[": brackets.append("]")
        case "{": brackets.append("}")
        case ")", "]", "}":
            guard let expected = brackets.popLast() else { throw error("unexpected '\(op)'", at: position) }
            guard String(expected) == op else { throw error("unexpected '\(op)', expected '\(expected)'", at: position) }
        default: break
        }
    }

    private static let operators = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")",
                                    "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"]

    private func operatorToken(at index: Int) -> String? {
        Self.operators.first { matches($0, at: index) }
    }

    // MARK: Literals

    /// A float or integer literal at `index` (jinja2's float_re, then integer_re), if one starts there.
    private func number(at index: Int) throws(TemplateError) -> (TemplateToken.Kind, Int)? {
        guard Self.isDigit(source[index]) else { return nil }
        // jinja2's float_re has (?<!\.): after a dot (`x.0.1`) only integers are read.
        let afterDot = index > 0 && source[index - 1] == "."
        let integerEnd = digitRun(from: index)
        var end = integerEnd
        var isFloat = false
        if !afterDot, end + 1 < source.count, source[end] == ".", Self.isDigit(source[end + 1]) {
            end = digitRun(from: end + 1)
            isFloat = true
        }
        if !afterDot, end < source.count, source[end] == "e" || source[end] == "E" {
            var exponent = end + 1
            if exponent < source.count, source[exponent] == "+" || source[exponent] == "-" { exponent += 1 }
            if exponent < source.count, Self.isDigit(source[exponent]) {
                end = digitRun(from: exponent)
                isFloat = true
            }
        }
        let text = TextOps.string(source[index..<end]).replacing("_", with: "")
        if isFloat {
            guard let value = Double(text) else { throw error("invalid float literal", at: index) }
            return (.float(value), end)
        }
        if source[index] == "0" {
            return try prefixedInteger(at: index)
        }
        guard let value = Int(text) else { throw error("integer literal out of range", at: index) }
        return (.integer(value), integerEnd)
    }

    /// 0b / 0o / 0x literals, or a run of zeros.
    private func prefixedInteger(at index: Int) throws(TemplateError) -> (TemplateToken.Kind, Int)? {
        let marker: Unicode.Scalar = index + 1 < source.count ? source[index + 1] : " "
        let radix: Int? = marker == "b" || marker == "B" ? 2 : marker == "o" || marker == "O" ? 8
            : marker == "x" || marker == "X" ? 16 : nil
        guard let radix else {
            var end = index + 1
            while end < source.count, source[end] == "0" || source[end] == "_" { end += 1 }
            return (.integer(0), end)
        }
        var end = index + 2
        while end < source.count, source[end] == "_" || Int(String(source[end]), radix: radix) != nil { end += 1 }
        let digits = TextOps.string(source[(index + 2)..<end]).replacing("_", with: "")
        guard let value = Int(digits, radix: radix) else { throw error("invalid integer literal", at: index) }
        return (.integer(value), end)
    }

    private func digitRun(from start: Int) -> Int {
        var end = start
        while end < source.count {
            let separator = source[end] == "_" && end + 1 < source.count && Self.isDigit(source[end + 1])
            guard Self.isDigit(source[end]) || separator else { break }
            end += 1
        }
        return end
    }

    /// A quoted string literal decoded with Python's escapes; returns the text and the index after the quote.
    private func stringLiteral(at start: Int) throws(TemplateError) -> (String, Int) {
        let quote = source[start]
        var index = start + 1
        var out = String.UnicodeScalarView()
        while index < source.count {
            let scalar = source[index]
            if scalar == quote { return (String(out), index + 1) }
            if scalar == "\\", index + 1 < source.count {
                index = try escape(at: index + 1, into: &out)
                continue
            }
            out.append(scalar)
            index += 1
        }
        throw error("unexpected end of string literal", at: start)
    }

    /// Decodes the escape whose letter is at `index` (Python's `unicode-escape`); returns the index after it.
    private func escape(at index: Int, into out: inout String.UnicodeScalarView) throws(TemplateError) -> Int {
        let letter = source[index]
        let simple: [Unicode.Scalar: Unicode.Scalar] = ["n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", "\"": "\"",
                                                        "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "v": "\u{0B}"]
        if let replacement = simple[letter] { out.append(replacement); return index + 1 }
        if letter == "\n" { return index + 1 }
        let width: Int? = letter == "x" ? 2 : letter == "u" ? 4 : letter == "U" ? 8 : nil
        if let width {
            guard index + width < source.count,
                  let value = UInt32(TextOps.string(source[(index + 1)...(index + width)]), radix: 16),
                  let scalar = Unicode.Scalar(value) else {
                throw error("truncated \\\(letter) escape in string literal", at: index - 1)
            }
            out.append(scalar)
            return index + 1 + width
        }
        if ("0"..."7").contains(letter) {
            var end = index
            var value: UInt32 = 0
            while end < source.count, end < index + 3, ("0"..."7").contains(source[end]) {
                value = value * 8 + (source[end].value - 48)
                end += 1
            }
            out.append(Unicode.Scalar(value)!)
            return end
        }
        out.append("\\")
        out.append(letter)
        return index + 1
    }

    // MARK: Helpers

    private mutating func emitText(_ text: ArraySlice<Unicode.Scalar>, at offset: Int) {
        guard !text.isEmpty else { return }
        tokens.append(TemplateToken(kind: .text(TextOps.string(text)), offset: offset))
    }

    private func matches(_ literal: String, at index: Int) -> Bool {
        var cursor = index
        for scalar in literal.unicodeScalars {
            guard cursor < source.count, source[cursor] == scalar else { return false }
            cursor += 1
        }
        return true
    }

    private func skipSpace(from start: Int) -> Int {
        var index = start
        while index < source.count, Self.isSpace(source[index]) { index += 1 }
        return index
    }

    private func rstripEnd(_ text: ArraySlice<Unicode.Scalar>) -> Int {
        var end = text.endIndex
        while end > text.startIndex, Self.isSpace(text[end - 1]) { end -= 1 }
        return end
    }

    private func error(_ message: String, at offset: Int) -> TemplateError {
        TemplateError(.syntax, message, at: lineMap.location(of: offset))
    }

    /// Python's `str.isspace()` (what `\s` and `str.strip()` use).
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    static func isNameStart(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isXIDStart
    }

    static func isNameContinue(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || scalar.properties.isXIDContinue
    }
}

/// Turns scalar offsets of the normalized source into 1-based line and column.
struct LineMap: Sendable {
    private let lineStarts: [Int]

    init(_ source: [Unicode.Scalar]) {
        var starts = [0]
        for (index, scalar) in source.enumerated() where scalar == "\n" { starts.append(index + 1) }
        lineStarts = starts
    }

    func location(of offset: Int) -> TemplateLocation {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return TemplateLocation(line: low + 1, column: offset - lineStarts[low] + 1)
    }
}
