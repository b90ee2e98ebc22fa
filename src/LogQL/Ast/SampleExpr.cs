namespace LokiSharp.LogQL.Ast;

/// <summary>A metric query: evaluates to samples.</summary>
public abstract record SampleExpr : Expr;
