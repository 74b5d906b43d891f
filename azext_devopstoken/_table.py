"""-o table for `devops-rest call`: an Azure DevOps list ({"count": N, "value": [...]}) shows its rows.

Without a transformer knack's table of that dict is a single "Count" column (knack/output.py _TableOutput
skips lists); other shapes are left as they are. knack applies a table transformer only without --query.
"""


def count_value_rows(result):
    if isinstance(result, dict) and set(result) == {'count', 'value'} and isinstance(result['value'], list):
        return result['value']
    return result
