"""The public-service evaluation system (公共服务评价体系): fairness, convenience and satisfaction
per unit, grades with rewards and rectification, versioned annual runs and the public report."""
