namespace LokiSharp.LogQL.Syntax;

/// <summary>
/// One lexed token. <see cref="Line"/> is 0 for tokens whose scanning consumed look-ahead characters, as Loki's
/// scanner reports them; <see cref="Column"/> is 1-based and counts runes.
/// </summary>
public readonly record struct Token(TokenKind Kind, string? Text, long Value, int Line, int Column, int Index = 0)
{
    /// <summary>The yacc name of this token, as used in "unexpected X".</summary>
    public string Name => Kind switch
    {
        TokenKind.RangeFunction => Ast.RangeFunction.Of((Ast.RangeOp)Value).TokenName,
        TokenKind.VectorFunction => Ast.VectorFunction.Of((Ast.VectorOp)Value).TokenName,
        _ => TokenNames.Of(Kind),
    };
}
